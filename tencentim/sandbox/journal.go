package sandbox

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/immigrate/immigrate/tencentim"
)

// A durable Server (Config.Durable) keeps a write-ahead journal next to its state
// file: every call of a state-changing command is appended to it, after the
// handler ran under the state lock, and is on disk before the answer is written.
// The invariant is that whatever the sandbox applied and might have answered
// survives a SIGKILL; a record whose write was cut is a request nobody was
// answered for.
//
// The journal is a series of segments, STATE.journal.N. A snapshot (Snapshot)
// dumps the state and starts a new segment in one step under the state lock, so
// every record of the older segments is covered by it; the snapshot records the
// sequence number of the last record it covers (JournalSeq), and the older
// segments are removed only once it is on disk. A crash anywhere in between
// leaves a snapshot and segments whose records at or below its JournalSeq are
// skipped on replay, so nothing is applied twice.
//
// Replay runs the recorded calls through the same handlers, in the order they
// were applied, with the server clock and the random numbers they drew when they
// were served, so that server-assigned values (MsgSeq, group and topic IDs, join
// and create times) come out the same.
//
// Writes are group-committed: the first caller to find records waiting writes
// and syncs all of them, and the callers that appended meanwhile wait for the
// next round, so concurrent requests share one fsync.

// journalMagic opens every segment.
const journalMagic = "IMSBJNL1"

// Record kinds.
const (
	recCall    byte = 1 // a call of a state-changing command
	recReset   byte = 2 // POST /_sandbox/reset
	recRestore byte = 3 // Server.Restore or Server.Load: the State as JSON
)

// recHeader is a record's length and CRC-32C of its payload, little-endian.
const recHeader = 8

var crcTable = crc32.MakeTable(crc32.Castagnoli)

// readOnlyCommands are the commands that never change the state; they are not
// journaled. Every other command is (TestJournalClassification holds the two
// lists to the route table).
var readOnlyCommands = map[tencentim.Command]bool{
	tencentim.CmdAccountCheck:       true,
	tencentim.CmdPortraitGet:        true,
	tencentim.CmdFriendGet:          true,
	tencentim.CmdAdminGetRoamMsg:    true,
	tencentim.CmdGetC2CUnreadMsgNum: true,
	tencentim.CmdRecentContactList:  true,
	tencentim.CmdGetGroupInfo:       true,
	tencentim.CmdGetGroupMemberInfo: true,
	tencentim.CmdGroupMsgGetSimple:  true,
	tencentim.CmdGetAppIDGroupList:  true,
}

// errJournalClosed answers calls that arrive after Close.
var errJournalClosed = errors.New("the sandbox is shutting down")

// journal is the open write-ahead journal of a durable Server.
type journal struct {
	stateFile string

	mu       sync.Mutex
	cond     sync.Cond // signalled when a flush ends
	f        *os.File  // the current segment
	segment  uint64    // its number
	old      []string  // earlier segments, removable once a snapshot covers them
	buf      []byte    // records appended but not yet written
	spare    []byte
	seq      uint64 // the last record appended
	synced   uint64 // the last record on disk
	flushing bool
	err      error // sticky: once writing failed, nothing is durable any more
}

func segmentName(stateFile string, n uint64) string {
	return fmt.Sprintf("%s.journal.%06d", stateFile, n)
}

// listSegments returns the numbers of the journal segments of stateFile, in order.
func listSegments(stateFile string) ([]uint64, error) {
	dir, base := filepath.Split(stateFile)
	if dir == "" {
		dir = "."
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var ns []uint64
	prefix := base + ".journal."
	for _, e := range entries {
		rest, ok := strings.CutPrefix(e.Name(), prefix)
		if !ok {
			continue
		}
		if n, err := strconv.ParseUint(rest, 10, 64); err == nil {
			ns = append(ns, n)
		}
	}
	slices.Sort(ns)
	return ns, nil
}

// syncDir makes a created, renamed or removed name in dir durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// createSegment creates segment n, with its magic on disk and its name in the
// directory.
func createSegment(stateFile string, n uint64) (*os.File, error) {
	f, err := os.OpenFile(segmentName(stateFile, n), os.O_WRONLY|os.O_CREATE|os.O_EXCL|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	if _, err := f.WriteString(journalMagic); err == nil {
		err = f.Sync()
	}
	if err == nil {
		err = syncDir(filepath.Dir(stateFile))
	}
	if err != nil {
		f.Close()
		os.Remove(f.Name())
		return nil, err
	}
	return f, nil
}

// failed returns the error that makes the journal refuse new records.
func (j *journal) failed() error {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.err
}

// last returns the number of the last record appended.
func (j *journal) last() uint64 {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.seq
}

// append encodes one record and returns its sequence number. The caller holds
// the Server's state lock, so sequence order is the order of application.
func (j *journal) append(kind byte, now time.Time, cmd tencentim.Command, draws []uint64, body []byte) (uint64, error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.err != nil {
		return 0, j.err
	}
	j.seq++
	start := len(j.buf)
	j.buf = append(j.buf, make([]byte, recHeader)...)
	j.buf = binary.AppendUvarint(j.buf, j.seq)
	j.buf = append(j.buf, kind)
	j.buf = binary.AppendVarint(j.buf, now.UnixNano())
	j.buf = binary.AppendUvarint(j.buf, uint64(len(cmd.Service)))
	j.buf = append(j.buf, cmd.Service...)
	j.buf = binary.AppendUvarint(j.buf, uint64(len(cmd.Name)))
	j.buf = append(j.buf, cmd.Name...)
	j.buf = binary.AppendUvarint(j.buf, uint64(len(draws)))
	for _, d := range draws {
		j.buf = binary.AppendUvarint(j.buf, d)
	}
	j.buf = append(j.buf, body...)
	payload := j.buf[start+recHeader:]
	binary.LittleEndian.PutUint32(j.buf[start:], uint32(len(payload)))
	binary.LittleEndian.PutUint32(j.buf[start+4:], crc32.Checksum(payload, crcTable))
	return j.seq, nil
}

// wait returns once record seq is on disk. The first waiter that finds records
// waiting and no flush under way writes and syncs them all; the others wait.
func (j *journal) wait(seq uint64) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	for j.synced < seq {
		if j.err != nil {
			return j.err
		}
		if j.flushing {
			j.cond.Wait()
			continue
		}
		buf, last, f := j.buf, j.seq, j.f
		j.buf, j.spare = j.spare[:0], nil
		j.flushing = true
		j.mu.Unlock()
		_, err := f.Write(buf)
		if err == nil {
			err = f.Sync()
		}
		j.mu.Lock()
		j.flushing = false
		j.spare = buf
		if err != nil {
			j.err = fmt.Errorf("journal: %w", err)
		} else {
			j.synced = last
		}
		j.cond.Broadcast()
	}
	return nil
}

// rotate makes f, segment n, the current segment and returns the sequence
// number of the last record appended. The caller holds the state lock, so no
// record is appended meanwhile; records not yet written go to the new segment.
func (j *journal) rotate(f *os.File, n uint64) uint64 {
	j.mu.Lock()
	defer j.mu.Unlock()
	for j.flushing {
		j.cond.Wait()
	}
	if j.f != nil {
		j.f.Close()
		j.old = append(j.old, j.f.Name())
	}
	j.f, j.segment = f, n
	return j.seq
}

// removeOld removes the segments a durable snapshot covers.
func (j *journal) removeOld() error {
	j.mu.Lock()
	old := j.old
	j.old = nil
	j.mu.Unlock()
	var errs []error
	for _, name := range old {
		if err := os.Remove(name); err != nil && !errors.Is(err, os.ErrNotExist) {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// close stops the journal: it writes what is still buffered, and later appends
// fail with errJournalClosed. The current segment joins the old ones, for the
// final snapshot to cover and remove. It returns the last record's number, and
// whether the journal was open.
func (j *journal) close() (uint64, bool) {
	j.mu.Lock()
	defer j.mu.Unlock()
	for j.flushing {
		j.cond.Wait()
	}
	if errors.Is(j.err, errJournalClosed) {
		return j.seq, false
	}
	if j.err == nil && len(j.buf) > 0 {
		_, err := j.f.Write(j.buf)
		if err == nil {
			err = j.f.Sync()
		}
		if err == nil {
			j.synced = j.seq
		}
	}
	j.buf = nil
	j.err = errJournalClosed
	j.cond.Broadcast()
	if j.f != nil {
		j.f.Close()
		j.old = append(j.old, j.f.Name())
		j.f = nil
	}
	return j.seq, true
}

// record is one decoded journal record.
type record struct {
	seq   uint64
	kind  byte
	now   time.Time
	cmd   tencentim.Command
	draws []uint64
	body  []byte
}

var errTorn = errors.New("torn record")

// readRecords decodes a segment. A record cut short or failing its CRC ends the
// segment: it is the write a crash interrupted, never answered (records are
// only ever appended, and synced before their answer).
func readRecords(data []byte) ([]record, error) {
	if len(data) < len(journalMagic) {
		return nil, nil // created, crashed before its magic was written
	}
	if string(data[:len(journalMagic)]) != journalMagic {
		return nil, errors.New("not a sandbox journal")
	}
	data = data[len(journalMagic):]
	var recs []record
	for len(data) > 0 {
		if len(data) < recHeader {
			break
		}
		n := binary.LittleEndian.Uint32(data)
		if n == 0 || uint64(n) > uint64(len(data)-recHeader) {
			break // zeros where a crash left the file longer than its data, or cut
		}
		payload := data[recHeader : recHeader+int(n)]
		if crc32.Checksum(payload, crcTable) != binary.LittleEndian.Uint32(data[4:]) {
			break
		}
		r, err := decodeRecord(payload)
		if err != nil {
			return nil, err // the CRC matched: written whole, so a bug, not a crash
		}
		recs = append(recs, r)
		data = data[recHeader+int(n):]
	}
	return recs, nil
}

func decodeRecord(p []byte) (record, error) {
	var r record
	var err error
	uvarint := func() uint64 {
		v, n := binary.Uvarint(p)
		if n <= 0 {
			err = errTorn
			return 0
		}
		p = p[n:]
		return v
	}
	bytesOf := func(n uint64) []byte {
		if err != nil || n > uint64(len(p)) {
			err = errTorn
			return nil
		}
		b := p[:n]
		p = p[n:]
		return b
	}
	r.seq = uvarint()
	if k := bytesOf(1); err == nil {
		r.kind = k[0]
	}
	if err == nil {
		v, n := binary.Varint(p)
		if n <= 0 {
			return r, errTorn
		}
		p = p[n:]
		r.now = time.Unix(0, v)
	}
	r.cmd.Service = string(bytesOf(uvarint()))
	r.cmd.Name = string(bytesOf(uvarint()))
	nd := uvarint()
	if err == nil && nd > uint64(len(p)) {
		err = errTorn
	}
	for i := uint64(0); i < nd && err == nil; i++ {
		r.draws = append(r.draws, uvarint())
	}
	r.body = p
	if err != nil {
		return r, fmt.Errorf("malformed record: %w", err)
	}
	return r, nil
}

// openJournal loads a durable Server: the snapshot in cfg.StateFile when there is
// one, then every record of the journal it does not cover, in order. Then it
// writes a new snapshot, which starts a fresh segment and removes the old ones.
func (s *Server) openJournal() error {
	path := s.cfg.StateFile
	var covered uint64
	if _, err := os.Stat(path); err == nil {
		if covered, err = s.load(path); err != nil {
			return err
		}
	} else if !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("sandbox: state file: %w", err)
	}
	segs, err := listSegments(path)
	if err != nil {
		return fmt.Errorf("sandbox: journal: %w", err)
	}
	j := &journal{stateFile: path}
	j.cond.L = &j.mu
	last := covered
	for _, n := range segs {
		name := segmentName(path, n)
		j.old = append(j.old, name)
		data, err := os.ReadFile(name)
		if err != nil {
			return fmt.Errorf("sandbox: journal: %w", err)
		}
		recs, err := readRecords(data)
		if err != nil {
			return fmt.Errorf("sandbox: journal %s: %w", name, err)
		}
		for _, r := range recs {
			if r.seq <= covered {
				continue
			}
			if r.seq != last+1 {
				return fmt.Errorf("sandbox: journal %s: record %d follows %d: records are missing", name, r.seq, last)
			}
			if err := s.replay(r); err != nil {
				return fmt.Errorf("sandbox: journal %s: record %d: %w", name, r.seq, err)
			}
			last = r.seq
		}
	}
	j.seq, j.synced = last, last
	if len(segs) > 0 {
		j.segment = segs[len(segs)-1]
	}
	s.journal = j
	return s.Snapshot()
}

// replay applies one record, as it was applied when it was served.
func (s *Server) replay(r record) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch r.kind {
	case recCall:
		h, ok := s.routes[r.cmd]
		if !ok {
			return fmt.Errorf("unknown command %s", r.cmd)
		}
		f, ok := parseObject(r.body)
		if !ok {
			return errors.New("the body is not a JSON object")
		}
		c := &call{cmd: r.cmd, raw: r.body, fields: f, now: r.now, draws: r.draws, replaying: true}
		h(s, c)
		if c.drawn != len(c.draws) {
			return fmt.Errorf("%s drew %d random numbers, %d when it was served", r.cmd, c.drawn, len(c.draws))
		}
	case recReset:
		s.resetState()
	case recRestore:
		st, _, err := decodeSnapshot(r.body)
		if err != nil {
			return err
		}
		return s.restoreLocked(st)
	default:
		return fmt.Errorf("unknown record kind %d", r.kind)
	}
	return nil
}

// Snapshot writes the state to Config.StateFile atomically and trims the
// journal to what the snapshot does not cover. A durable Server needs one now
// and then (the CLI takes one periodically) to bound its journal and its
// restart time; without Config.Durable it just saves the state there.
func (s *Server) Snapshot() error {
	j := s.journal
	if j == nil {
		if s.cfg.StateFile == "" {
			return errors.New("sandbox: snapshot: no state file")
		}
		return s.Save(s.cfg.StateFile)
	}
	s.snapMu.Lock()
	defer s.snapMu.Unlock()
	if err := j.failed(); err != nil {
		return fmt.Errorf("sandbox: snapshot: %w", err)
	}
	j.mu.Lock()
	n := j.segment + 1
	j.mu.Unlock()
	f, err := createSegment(s.cfg.StateFile, n)
	if err != nil {
		return fmt.Errorf("sandbox: snapshot: %w", err)
	}
	s.mu.Lock()
	st := s.stateLocked()
	seq := j.rotate(f, n)
	s.mu.Unlock()
	if err := writeSnapshot(s.cfg.StateFile, st, seq); err != nil {
		return err
	}
	if err := j.removeOld(); err != nil {
		return fmt.Errorf("sandbox: snapshot: %w", err)
	}
	return nil
}

// Close ends a durable Server: it writes a final snapshot and removes the
// journal, which the snapshot covers whole. Calls that arrive later answer
// 70500. Close does nothing for a Server that is not durable, or closed.
func (s *Server) Close() error {
	j := s.journal
	if j == nil {
		return nil
	}
	s.snapMu.Lock()
	defer s.snapMu.Unlock()
	s.mu.Lock()
	st := s.stateLocked()
	seq, open := j.close()
	s.mu.Unlock()
	if !open {
		return nil
	}
	if err := writeSnapshot(s.cfg.StateFile, st, seq); err != nil {
		return err
	}
	if err := j.removeOld(); err != nil {
		return fmt.Errorf("sandbox: close: %w", err)
	}
	return nil
}

// journalCall records a served call of a state-changing command; the caller
// holds the state lock. It returns the record's number, for durable.
func (s *Server) journalCall(c *call) (uint64, error) {
	return s.journal.append(recCall, c.now, c.cmd, c.draws, c.raw)
}

// durable waits until record seq is on disk; a Server that is not durable has
// nothing to wait for.
func (s *Server) durable(seq uint64) error {
	if s.journal == nil || seq == 0 {
		return nil
	}
	return s.journal.wait(seq)
}
