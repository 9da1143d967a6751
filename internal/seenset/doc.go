// Package seenset is a set of 64-bit fingerprints whose memory is bounded by its
// configuration, not by how many fingerprints it holds: the validate pass keeps
// in it the ids of every message it met (transform.SeenSet), which for tens of
// millions of messages would not fit a process of bounded size. An in-memory
// table takes new fingerprints; when it fills it is sorted and spilled to a
// file, and a fixed-size Bloom filter in front of the spilled runs answers most
// lookups without reading them.
package seenset
