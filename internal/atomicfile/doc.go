// Package atomicfile writes the files of the output directory (reports,
// rejects.jsonl) so that a reader sees the previous file or the new one whole,
// never part of one: the content goes to a temporary file in the same directory,
// which is synced and then renamed over the path. A failed write leaves the
// previous file as it was and removes the temporary one.
package atomicfile
