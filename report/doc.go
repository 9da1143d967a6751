// Package report renders the validate, run and verify reports as Markdown, JSON and
// HTML from the result structures the other packages produce.
package report
