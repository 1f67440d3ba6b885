package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/waymark-dns/waymark/client"
)

// DefaultWait bounds a wait when --timeout is not given.
const DefaultWait = 5 * time.Minute

// changeResult prints a change just made, after waiting for it when wait
// is set.
func (e *env) changeResult(ctx context.Context, ch client.Change, wait bool) error {
	if !wait {
		out := client.ChangeOutput{Change: ch}
		return e.print(out, func(w io.Writer) {
			printChange(w, &client.GetChangeOutput{Change: ch})
		})
	}
	out, err := e.waitChange(ctx, ch.ID)
	if err != nil {
		return err
	}
	return e.print(out, func(w io.Writer) { printChange(w, out) })
}

// waitChange waits for INSYNC, drawing the nameservers' progress on a
// terminal. A wait that runs out of time is a timeoutError (exit 3) that
// says how far the change got.
func (e *env) waitChange(ctx context.Context, id string) (*client.GetChangeOutput, error) {
	c, err := e.Client()
	if err != nil {
		return nil, err
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, DefaultWait)
		defer cancel()
	}
	line := e.statusLine("waiting for " + id)
	defer line.stop()
	start := e.io.Now()
	out, err := c.WaitInSync(ctx, id, &client.WaitOptions{
		// Short polls, so that the progress moves; each still returns
		// as soon as the change is INSYNC.
		PollTimeout: 2 * time.Second,
		OnProgress:  func(p *client.GetChangeOutput) { line.set(progressBar(p)) },
	})
	// WaitInSync stops just before the deadline, so ctx may not have
	// expired yet.
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) && ctx.Err() != nil {
		msg := fmt.Sprintf("change %s is not INSYNC after %s", id, e.io.Now().Sub(start).Round(time.Second))
		if out != nil {
			msg += ": " + progressText(out)
		}
		return out, timeoutError{msg}
	}
	return out, err
}

func progressText(p *client.GetChangeOutput) string {
	s := p.Change.Status
	if pr := p.Propagation; pr != nil {
		s += fmt.Sprintf(", %d of %d nameservers", pr.AppliedNameservers, pr.LiveNameservers)
	}
	return s
}

// progressBar is progressText with a bar of the nameservers that have
// applied the change, for the terminal.
func progressBar(p *client.GetChangeOutput) string {
	pr := p.Propagation
	if pr == nil || pr.LiveNameservers <= 0 {
		return progressText(p)
	}
	const width = 20
	done := min(width*pr.AppliedNameservers/pr.LiveNameservers, width)
	return fmt.Sprintf("%s [%s%s] %d/%d nameservers", p.Change.Status,
		strings.Repeat("█", done), strings.Repeat("░", width-done), pr.AppliedNameservers, pr.LiveNameservers)
}

// spinner shows what on a terminal until the returned stop is called.
func (e *env) spinner(what string) (stop func()) {
	l := e.statusLine(what)
	return l.stop
}

// statusLine is one line of progress redrawn on stderr, on a terminal
// only: a spinner, the task, its state and the time spent.
type statusLine struct {
	mu      sync.Mutex
	w       io.Writer
	task    string
	state   string
	start   time.Time
	now     func() time.Time
	done    chan struct{}
	stopped sync.Once
	wg      sync.WaitGroup
}

func (e *env) statusLine(task string) *statusLine {
	l := &statusLine{w: e.io.Stderr, task: task, now: e.io.Now, start: e.io.Now(), done: make(chan struct{})}
	if !e.io.StderrIsTerminal {
		close(l.done)
		return l
	}
	l.wg.Add(1)
	go func() {
		defer l.wg.Done()
		frames := []rune("⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏")
		tick := time.NewTicker(100 * time.Millisecond)
		defer tick.Stop()
		for i := 0; ; i++ {
			l.draw(frames[i%len(frames)])
			select {
			case <-l.done:
				return
			case <-tick.C:
			}
		}
	}()
	return l
}

func (l *statusLine) set(state string) {
	l.mu.Lock()
	l.state = state
	l.mu.Unlock()
}

func (l *statusLine) draw(frame rune) {
	l.mu.Lock()
	defer l.mu.Unlock()
	s := fmt.Sprintf("\r\033[K%c %s", frame, l.task)
	if l.state != "" {
		s += ": " + l.state
	}
	s += fmt.Sprintf(" (%s)", l.now().Sub(l.start).Round(time.Second))
	fmt.Fprint(l.w, s)
}

// stop ends the line and erases it.
func (l *statusLine) stop() {
	l.stopped.Do(func() {
		select {
		case <-l.done: // not a terminal
			return
		default:
		}
		close(l.done)
		l.wg.Wait()
		fmt.Fprint(l.w, "\r\033[K")
	})
}
