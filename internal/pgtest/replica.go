package pgtest

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// ServerBin is where the PostgreSQL server programs Replica runs are
// (initdb, pg_ctl, pg_basebackup): PG_BIN, or Debian's PostgreSQL 15.
func ServerBin() string {
	if d := os.Getenv("PG_BIN"); d != "" {
		return d
	}
	return "/usr/lib/postgresql/15/bin"
}

// ReplicaPair is a private PostgreSQL primary and a streaming replica of
// it (pg_basebackup -R), each on a free loopback port, in a temporary
// directory removed at cleanup. The shared test server is not touched: it
// has no replication line in pg_hba.conf, and a test must not add one.
type ReplicaPair struct {
	// PrimaryURL and StandbyURL reach the database "postgres" of each
	// as the user postgres (trust).
	PrimaryURL, StandbyURL string
}

// Replica starts a ReplicaPair for t. The servers run as the postgres
// user (PostgreSQL refuses to run as root): as this process when it is
// postgres, else through runuser. Without the server programs, or
// without a way to run them as postgres, the test fails: a replica test
// that skips would hide that the replica path is untested.
func Replica(t testing.TB) ReplicaPair {
	t.Helper()
	bin := ServerBin()
	for _, p := range []string{"initdb", "pg_ctl", "pg_basebackup"} {
		if _, err := os.Stat(filepath.Join(bin, p)); err != nil {
			t.Fatalf("pgtest: the PostgreSQL server programs are required (PG_BIN=%s): %v", bin, err)
		}
	}
	pg, err := user.Lookup("postgres")
	if err != nil {
		t.Fatalf("pgtest: a postgres user is required to run a private server: %v", err)
	}
	dir, err := os.MkdirTemp("", "pgtest-replica-")
	if err != nil {
		t.Fatal(err)
	}
	uid, _ := strconv.Atoi(pg.Uid)
	gid, _ := strconv.Atoi(pg.Gid)
	if os.Getuid() != uid {
		if err := os.Chown(dir, uid, gid); err != nil {
			t.Fatalf("pgtest: hand %s to postgres: %v", dir, err)
		}
	}
	run := func(name string, args ...string) error {
		cmdArgs := append([]string{filepath.Join(bin, name)}, args...)
		if os.Getuid() != uid {
			cmdArgs = append([]string{"runuser", "-u", "postgres", "--"}, cmdArgs...)
		}
		cmd := exec.Command(cmdArgs[0], cmdArgs[1:]...)
		cmd.Dir = dir
		out, err := cmd.CombinedOutput()
		if err != nil {
			return fmt.Errorf("%s: %v\n%s", strings.Join(cmdArgs, " "), err, out)
		}
		return nil
	}
	primary, standby := filepath.Join(dir, "primary"), filepath.Join(dir, "standby")
	var started []string
	t.Cleanup(func() {
		// The standby first: stopped after its primary it would retry.
		for _, d := range slices.Backward(started) {
			if err := run("pg_ctl", "-D", d, "-m", "immediate", "-w", "stop"); err != nil {
				t.Logf("pgtest: %v", err)
			}
		}
		_ = os.RemoveAll(dir)
	})
	start := func(data string, port int) {
		t.Helper()
		if err := run("pg_ctl", "-D", data, "-l", data+".log", "-w", "-t", "120", "-o",
			fmt.Sprintf("-p %d -k %s", port, dir), "start"); err != nil {
			log, _ := os.ReadFile(data + ".log")
			t.Fatalf("pgtest: %v\n%s", err, log)
		}
		started = append(started, data)
	}

	pport, sport := freePort(t), freePort(t)
	for sport == pport { // the kernel may pick a port it just gave again
		sport = freePort(t)
	}
	// initdb's pg_hba.conf trusts local and loopback connections,
	// replication ones included (--auth=trust).
	if err := run("initdb", "-D", primary, "-U", "postgres", "--auth=trust", "--no-sync"); err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	conf := "\nlisten_addresses = '127.0.0.1'\nwal_level = replica\nmax_wal_senders = 4\n" +
		"fsync = off\nsynchronous_commit = off\nfull_page_writes = off\nshared_buffers = 16MB\nmax_connections = 40\n"
	if err := appendFile(filepath.Join(primary, "postgresql.conf"), conf); err != nil {
		t.Fatal(err)
	}
	start(primary, pport)
	if err := run("pg_basebackup", "-h", "127.0.0.1", "-p", strconv.Itoa(pport), "-U", "postgres",
		"-D", standby, "-R", "-X", "stream", "--no-sync"); err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	start(standby, sport)
	rp := ReplicaPair{
		PrimaryURL: fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", pport),
		StandbyURL: fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", sport),
	}
	// The standby is ready once it accepts connections and says so.
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	for {
		c, err := pgx.Connect(ctx, rp.StandbyURL)
		if err == nil {
			var inRecovery bool
			err = c.QueryRow(ctx, `SELECT pg_is_in_recovery()`).Scan(&inRecovery)
			_ = c.Close(ctx)
			if err == nil && inRecovery {
				return rp
			}
			if err == nil {
				err = fmt.Errorf("the standby is not in recovery")
			}
		}
		select {
		case <-ctx.Done():
			t.Fatalf("pgtest: standby: %v", err)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func appendFile(path, s string) error {
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	if _, err := f.WriteString(s); err != nil {
		_ = f.Close()
		return err
	}
	return f.Close()
}

// freePort is a loopback TCP port free a moment ago.
func freePort(t testing.TB) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}
