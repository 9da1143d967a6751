package checkpoint

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/immigrate/immigrate/internal/pgtest"
)

// TestPostgresWriterReconnects: a writer whose session ended (a server restart,
// pg_terminate_backend) connects again and takes the run lock again, and refuses to
// write when another run took the lock in the meantime.
func TestPostgresWriterReconnects(t *testing.T) {
	ctx := context.Background()
	url, schema := pgtest.Schema(t)
	open := func() *PostgresStore {
		t.Helper()
		s, err := OpenPostgres(ctx, url, schema)
		if err != nil {
			t.Fatalf("OpenPostgres: %v", err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	}
	admin, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close(ctx)
	s := open()
	m := Manifest{MappingHash: "h", Target: "t"}
	if _, err := s.Begin(ctx, m, BeginOptions{}); err != nil {
		t.Fatalf("Begin: %v", err)
	}
	// kill ends the session of s's writer and waits until the server has dropped it,
	// and with it the advisory lock.
	kill := func() {
		t.Helper()
		var pid int
		s.wmu.Lock()
		err := s.w.QueryRowContext(ctx, `SELECT pg_backend_pid()`).Scan(&pid)
		s.wmu.Unlock()
		if err != nil {
			t.Fatalf("writer's pid: %v", err)
		}
		if _, err := admin.Exec(ctx, `SELECT pg_terminate_backend($1)`, pid); err != nil {
			t.Fatalf("terminate the writer's session: %v", err)
		}
		for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
			var alive bool
			if err := admin.QueryRow(ctx, `SELECT EXISTS (SELECT FROM pg_stat_activity WHERE pid = $1)`, pid).Scan(&alive); err != nil {
				t.Fatal(err)
			}
			if !alive {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("session %d still there after pg_terminate_backend", pid)
			}
		}
	}
	// apply allows one failure of another kind than ErrLocked: the Apply that finds
	// the connection dead.
	apply := func() error {
		b := &Batch{Counts: []PhaseCount{{Phase: "p", Counts: Counts{Imported: 1}}}}
		err := s.Apply(ctx, b)
		if err != nil && !errors.Is(err, ErrLocked) {
			err = s.Apply(ctx, b)
		}
		return err
	}

	kill()
	if err := apply(); err != nil {
		t.Fatalf("Apply after the writer's session ended: %v", err)
	}
	other := open()
	if _, err := other.Begin(ctx, m, BeginOptions{}); !errors.Is(err, ErrLocked) {
		t.Errorf("Begin of another store after the writer reconnected = %v, want ErrLocked", err)
	}

	kill()
	if _, err := other.Begin(ctx, m, BeginOptions{}); err != nil {
		t.Fatalf("Begin of another store while the run's session is gone: %v", err)
	}
	if err := apply(); !errors.Is(err, ErrLocked) {
		t.Errorf("Apply of a run whose lock another store took = %v, want ErrLocked", err)
	}
	if err := other.Close(); err != nil {
		t.Fatal(err)
	}
	// The server drops the other session's lock a moment after its Close.
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		err := apply()
		if err == nil {
			break
		}
		if !errors.Is(err, ErrLocked) || time.Now().After(deadline) {
			t.Fatalf("Apply once the other store closed: %v", err)
		}
	}
	cs, err := s.Counters(ctx)
	if err != nil || len(cs) != 1 || cs[0].Imported != 2 {
		t.Errorf("Counters = %+v, %v; want 2 imported (the refused Apply wrote nothing)", cs, err)
	}
}
