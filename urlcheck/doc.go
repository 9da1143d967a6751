// Package urlcheck checks that media URLs answer: `immigrate validate
// --check-urls` hands it every (rewritten) URL of the accepted messages, and it
// sends a HEAD to each with bounded concurrency and a timeout, keeping only the
// dead links, each with the record it came from. It knows nothing of TIM.
package urlcheck
