package extract

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"
)

// TimeFormat says how a source spells timestamps: one of the named formats below, or
// any Go time layout (interpreted in UTC unless the layout has a zone).
type TimeFormat string

// The named time formats.
const (
	// TimeUnix is seconds since the epoch, possibly fractional ("1700000000.25").
	TimeUnix TimeFormat = "unix"
	// TimeUnixMS is milliseconds since the epoch, an integer.
	TimeUnixMS TimeFormat = "unix_ms"
	// TimeTimestamptz accepts RFC 3339 and PostgreSQL's timestamptz/timestamp text
	// output ("2024-01-02 03:04:05.123456+08", "2024-01-02T03:04:05Z"); a value
	// without a zone is UTC. PostgreSQL timestamptz/timestamp columns are used
	// directly whatever the format says. It is the default for both sources because
	// it reads both what PostgreSQL's COPY writes and RFC 3339.
	TimeTimestamptz TimeFormat = "timestamptz"
	// TimeRFC3339 is strict RFC 3339 with an optional fraction of a second.
	TimeRFC3339 TimeFormat = "rfc3339"
)

// DefaultTimeFormat is used when an EntitySource leaves Time empty.
const DefaultTimeFormat = TimeTimestamptz

// Validate reports whether f is a named format or a usable Go layout. The empty
// format is valid (it means DefaultTimeFormat).
func (f TimeFormat) Validate() error {
	switch f {
	case "", TimeUnix, TimeUnixMS, TimeTimestamptz, TimeRFC3339:
		return nil
	}
	// A Go layout must contain layout elements (then formatting a time other than
	// the reference one changes it) and parse what it formats.
	ref := time.Date(2017, 11, 28, 21, 37, 49, 0, time.UTC)
	s := ref.Format(string(f))
	if s == string(f) {
		return fmt.Errorf("time format %q is neither unix, unix_ms, timestamptz, rfc3339 nor a Go layout", string(f))
	}
	if _, err := time.Parse(string(f), s); err != nil {
		return fmt.Errorf("time format %q is not a usable Go layout: %w", string(f), err)
	}
	return nil
}

// EntitySource says where one entity's records come from.
type EntitySource struct {
	// File is the CSV file (relative paths are relative to CSVConfig.Dir).
	File string
	// Query is the PostgreSQL SQL returning the entity's columns. The reader wraps it
	// as a subquery and pages through it, so it is one statement (a final semicolon
	// is dropped) without ORDER BY, LIMIT, OFFSET or FETCH at its top level; the
	// reader refuses those as ErrConfig.
	Query string
	// Columns maps a canonical field (see Fields) to the source column holding it.
	// A field not mapped here is read from the column of its canonical name when the
	// source has one, else it is empty.
	Columns map[string]string
	// Custom (users only) maps a custom profile field's name to the source column
	// holding it (spec §4.1 Tag_Profile_Custom_<name>). Unlike Columns, a mapped
	// column must exist. At most MaxCustomFields.
	Custom map[string]string
	// Time is the timestamp format of the entity's time column; empty means
	// DefaultTimeFormat.
	Time TimeFormat
	// Sorted (CSV) declares that the file of members or messages is already in the
	// entity's stream order (see Reader), so the on-disk sort is skipped. The reader
	// checks it as it streams and fails with ErrUnsorted at the first record out of
	// order.
	Sorted bool
}

// Default settings.
const (
	DefaultDelimiter = ','
	// DefaultSortMemoryBytes is the sort budget when none is configured. The heap
	// grows to about twice the records held (Go's collector): on 1M messages, peak
	// RSS is 128 MB at 64 MiB and 42 MB at 16 MiB, and the smaller chunks sort with
	// slightly less CPU, so configure less where memory is tight.
	DefaultSortMemoryBytes = 64 << 20
	DefaultPageSize        = 10000
)

// CSVConfig configures a CSVReader.
type CSVConfig struct {
	// Dir is the directory relative file paths are resolved against.
	Dir string
	// Delimiter separates fields; zero means ','.
	Delimiter rune
	// Entities lists the files; an entity absent here is empty.
	Entities map[Entity]EntitySource
	// TempDir holds the sort's spill files; empty means os.TempDir().
	TempDir string
	// SortMemoryBytes bounds the records (and their strings) held in memory by the
	// on-disk sort of members and messages; zero means DefaultSortMemoryBytes. The
	// heap may grow to about twice this.
	SortMemoryBytes int
}

// PostgresConfig configures a PostgresReader.
type PostgresConfig struct {
	// URL is the pgx connection string. It may hold a password: never log it.
	URL string
	// Entities lists the queries; an entity absent here is empty.
	Entities map[Entity]EntitySource
	// PageSize is the number of rows per keyset page; zero means DefaultPageSize.
	PageSize int
}

// Rule codes of BadRow.
const (
	RuleRaggedRow   = "csv.ragged_row"   // a CSV record with a different field count than the header
	RuleInvalidUTF8 = "csv.invalid_utf8" // a field that is not valid UTF-8
	RuleParse       = "csv.parse"        // encoding/csv could not parse the record
	RuleMissing     = "field.missing"    // a required field is empty or NULL
	RuleTimestamp   = "field.timestamp"  // a timestamp does not parse in the configured format
	RuleNumber      = "field.number"     // a number field does not parse
)

// BadRow is a source record that was skipped. Reading goes on after it.
type BadRow struct {
	Entity Entity
	Origin Origin
	// LegacyID is the record's legacy id as transform spells it (the id; for
	// members "group_id/user_id", for friends "user_id/friend_id") when the
	// fields holding it could be read, else empty. It is empty for a CSV line
	// that does not parse or has the wrong number of fields.
	LegacyID string
	Rule     string
	Message  string
}

func (b BadRow) String() string {
	return b.Origin.String() + ": " + b.Rule + ": " + b.Message
}

// Options are the settings shared by both readers.
type Options struct {
	// OnBadRow is called synchronously, from the goroutine calling the Reader method,
	// for each skipped record. Nil ignores them.
	OnBadRow func(BadRow)
	// RejectUnreadable skips a record as a BadRow when one of its optional fields
	// (see Optional) cannot be read. By default such a field is dropped instead:
	// the record is read without it, and the field is listed in the record's
	// Dropped. Required and other fields always skip the record.
	RejectUnreadable bool
	// OnRead is called once each time a Reader method starts reading an entity
	// from the source — just before a CSV reader opens the entity's file, or a
	// PostgreSQL reader sends the first page query of the read — synchronously,
	// from the goroutine calling the method. It counts reads of the source, not
	// records: one per method call, whatever the pages or the sort's spill files.
	// It is not called for an entity the source does not configure, for a read
	// that ends before touching the source (after Close, with ctx already done,
	// when no connection can be made), by the constructors' checks of headers and
	// queries, nor by Fingerprint. Methods running concurrently call it
	// concurrently. Nil ignores reads.
	OnRead func(Entity)
}

// ErrConfig is wrapped by every configuration error a constructor returns.
var ErrConfig = errors.New("extract: invalid configuration")

// ErrClosed is returned by reads that start after Close.
var ErrClosed = errors.New("extract: reader is closed")

// validateSources checks what both readers need of the entity sources; needFile
// says whether each must name a File (CSV) or a Query (PostgreSQL).
func validateSources(entities map[Entity]EntitySource, needFile bool) error {
	for e, src := range entities {
		if !e.Valid() {
			return fmt.Errorf("%w: unknown entity %q", ErrConfig, string(e))
		}
		if needFile && src.File == "" {
			return fmt.Errorf("%w: %s: no file", ErrConfig, e)
		}
		if !needFile && src.Query == "" {
			return fmt.Errorf("%w: %s: no query", ErrConfig, e)
		}
		if err := src.Time.Validate(); err != nil {
			return fmt.Errorf("%w: %s: %w", ErrConfig, e, err)
		}
		if len(src.Custom) > 0 && e != Users {
			return fmt.Errorf("%w: %s: custom profile fields belong to users", ErrConfig, e)
		}
		if len(src.Custom) > MaxCustomFields {
			return fmt.Errorf("%w: %s: %d custom fields, at most %d", ErrConfig, e, len(src.Custom), MaxCustomFields)
		}
		for name, col := range src.Custom {
			if name == "" || col == "" {
				return fmt.Errorf("%w: %s: custom field %q mapped to column %q: both must be non-empty", ErrConfig, e, name, col)
			}
		}
		for field, col := range src.Columns {
			if !hasField(e, field) {
				return fmt.Errorf("%w: %s: column mapping for unknown field %q", ErrConfig, e, field)
			}
			if col == "" {
				return fmt.Errorf("%w: %s: field %q mapped to an empty column name", ErrConfig, e, field)
			}
		}
	}
	return nil
}

// MaxCustomFields is the most custom profile fields a users source maps.
const MaxCustomFields = 20

// customPrefix names a custom profile field among a source's fields (decoder
// messages, DroppedField.Field): "custom.Kind".
const customPrefix = "custom."

// sourceFields returns the fields a source reads: the entity's canonical ones,
// then its custom profile fields by name, with the column mapped to each ("" when
// the canonical name is the column) and whether it was mapped explicitly.
func sourceFields(e Entity, src EntitySource) (fields, columns []string, mapped []bool, custom []string) {
	for _, f := range entityFields[e] {
		col, ok := src.Columns[f]
		if !ok {
			col = f
		}
		fields, columns, mapped = append(fields, f), append(columns, col), append(mapped, ok)
	}
	custom = slices.Sorted(maps.Keys(src.Custom))
	for _, name := range custom {
		fields, columns, mapped = append(fields, customPrefix+name), append(columns, src.Custom[name]), append(mapped, true)
	}
	return fields, columns, mapped, custom
}

func hasField(e Entity, field string) bool {
	for _, f := range entityFields[e] {
		if f == field {
			return true
		}
	}
	return false
}
