package extract

// SetMergeFanIn lowers the sort's merge fan-in so tests exercise multi-pass merges.
func SetMergeFanIn(r *CSVReader, n int) { r.mergeFanIn = n }
