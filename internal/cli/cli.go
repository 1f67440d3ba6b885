// Package cli is the tenant command line of the waymark binary: `waymark
// zones …`, `records …`, `changes …`, `healthchecks …`, `keys …`,
// `nameservers list`, `test-answer`, `domains …` and `completion`, all built on the Go
// SDK (package client). It reads WAYMARK_API and WAYMARK_API_KEY (what
// `source .waymark/dev.env` sets), prints tables, or JSON with -o json,
// and exits 1 with the API's error code and message when a call fails
// (2 for a usage error, 3 when a wait times out).
//
// Flags use the standard library's flag package; they may come before,
// between or after the positional arguments, and "--" ends them.
package cli

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/waymark-dns/waymark/client"
)

// Exit statuses.
const (
	ExitOK      = 0
	ExitError   = 1 // the API refused, or something failed
	ExitUsage   = 2 // bad command line
	ExitTimeout = 3 // a wait ended before the change was INSYNC
)

// IO is the command line's world: streams, environment and whether the
// streams are terminals (progress is drawn only on a terminal).
type IO struct {
	Stdin          io.Reader
	Stdout, Stderr io.Writer
	Getenv         func(string) string
	// StderrIsTerminal enables the progress indicator.
	StderrIsTerminal bool
	// Now is the clock of elapsed times (default time.Now).
	Now func() time.Time
}

// SystemIO is the process's IO.
func SystemIO() IO {
	return IO{Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr, Getenv: os.Getenv,
		StderrIsTerminal: isTerminal(os.Stderr), Now: time.Now}
}

func isTerminal(f *os.File) bool {
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// command is a node of the command tree: a group (with subs) or a leaf
// (with run).
type command struct {
	name    string
	args    []string // positional arguments, for usage and completion: "ZONE", "[VALUE…]"
	summary string
	long    string // more help, optional
	subs    []*command
	// flags declares the leaf's own flags.
	flags func(fs *flag.FlagSet)
	// minArgs and maxArgs bound the positional arguments (maxArgs -1:
	// unbounded).
	minArgs, maxArgs int
	run              func(ctx context.Context, e *env, args []string) error
}

// env is what a running leaf command has: the IO, the parsed global
// flags and a lazily made client.
type env struct {
	io      IO
	output  string // "table" or "json"
	api     string
	apiKey  string
	admin   bool // use WAYMARK_ADMIN_TOKEN (operator endpoints)
	timeout time.Duration
	client  *client.Client
}

// usageError is a bad command line: printed with the command's usage,
// exit status 2.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func usagef(format string, a ...any) error { return usageError{fmt.Sprintf(format, a...)} }

// lookupError is something the command line looked for through the API
// and did not find (a zone by name, a record set to delete): printed like
// the API's errors, "Code: message", exit status 1.
type lookupError struct{ code, msg string }

func (e lookupError) Error() string { return e.code + ": " + e.msg }

// timeoutError is a wait that ended first: exit status 3.
type timeoutError struct{ msg string }

func (e timeoutError) Error() string { return e.msg }

// Handles reports whether name is a command of the tenant command line.
func Handles(name string) bool {
	return slices.ContainsFunc(tree().subs, func(c *command) bool { return c.name == name }) || name == completeCommand
}

// Usage is the list of the tenant commands, for the binary's usage text.
func Usage() string {
	var sb strings.Builder
	w := tabwriter.NewWriter(&sb, 0, 4, 2, ' ', 0)
	for _, c := range tree().subs {
		fmt.Fprintf(w, "  %s\t%s\n", c.name, c.summary)
	}
	_ = w.Flush()
	return sb.String()
}

// Main runs the tenant command line with args (the command first, as
// os.Args[1:]) and returns the exit status. serverRoles are the binary's
// other commands, offered by shell completion.
func Main(ctx context.Context, args []string, sys IO, serverRoles []string) int {
	if sys.Now == nil {
		sys.Now = time.Now
	}
	if sys.Getenv == nil {
		sys.Getenv = func(string) string { return "" }
	}
	root := tree()
	if len(args) > 0 && args[0] == completeCommand {
		complete(ctx, root, args[1:], sys, serverRoles)
		return ExitOK
	}
	cmd, path, rest := root, []string{"waymark"}, args
	for len(cmd.subs) > 0 {
		if len(rest) == 0 || rest[0] == "-h" || rest[0] == "--help" || rest[0] == "help" {
			w := sys.Stderr
			code := ExitUsage
			if len(rest) > 0 {
				w, code = sys.Stdout, ExitOK
			}
			printGroupUsage(w, cmd, path)
			return code
		}
		sub := findSub(cmd, rest[0])
		if sub == nil {
			fmt.Fprintf(sys.Stderr, "waymark: unknown command %q for %q\n\n", rest[0], strings.Join(path, " "))
			printGroupUsage(sys.Stderr, cmd, path)
			return ExitUsage
		}
		cmd, path, rest = sub, append(path, sub.name), rest[1:]
	}

	e := &env{io: sys}
	fs := flag.NewFlagSet(strings.Join(path, " "), flag.ContinueOnError)
	fs.SetOutput(sys.Stderr)
	addGlobalFlags(fs, e)
	if cmd.flags != nil {
		cmd.flags(fs)
	}
	fs.Usage = func() {} // printed below: help to stdout, errors' usage to stderr
	pos, err := parseInterleaved(fs, rest)
	if errors.Is(err, flag.ErrHelp) {
		printLeafUsage(sys.Stdout, cmd, path, fs)
		return ExitOK
	}
	if err != nil {
		// flag has printed the error.
		fmt.Fprintln(sys.Stderr)
		printLeafUsage(sys.Stderr, cmd, path, fs)
		return ExitUsage
	}
	if e.output != "table" && e.output != "json" {
		err = usagef("-o must be table or json, not %q", e.output)
	} else if len(pos) < cmd.minArgs || cmd.maxArgs >= 0 && len(pos) > cmd.maxArgs {
		err = usagef("%s takes %s", strings.Join(path, " "), argsText(cmd))
	}
	if err == nil {
		if e.timeout > 0 {
			var cancel context.CancelFunc
			ctx, cancel = context.WithTimeout(ctx, e.timeout)
			defer cancel()
		}
		err = cmd.run(ctx, e, pos)
	}
	return report(sys.Stderr, err, func() { printLeafUsage(sys.Stderr, cmd, path, fs) })
}

// report prints err and returns the exit status for it.
func report(w io.Writer, err error, usage func()) int {
	var ue usageError
	var te timeoutError
	switch {
	case err == nil:
		return ExitOK
	case errors.As(err, &ue):
		fmt.Fprintf(w, "waymark: %s\n\n", ue.msg)
		usage()
		return ExitUsage
	case errors.As(err, &te):
		fmt.Fprintf(w, "waymark: %s\n", te.msg)
		return ExitTimeout
	}
	if e, ok := client.AsError(err); ok {
		// The code first, as scripts grep for it; then where to look.
		fmt.Fprintf(w, "waymark: %s\n", e.Error())
		for _, d := range e.Details {
			fmt.Fprintf(w, "  %s\n", d)
		}
		return ExitError
	}
	fmt.Fprintf(w, "waymark: %v\n", err)
	return ExitError
}

func findSub(c *command, name string) *command {
	for _, s := range c.subs {
		if s.name == name {
			return s
		}
	}
	return nil
}

func addGlobalFlags(fs *flag.FlagSet, e *env) {
	fs.StringVar(&e.output, "o", "table", "output format: table or json")
	fs.StringVar(&e.output, "output", "table", "output format: table or json")
	fs.StringVar(&e.api, "api", "", "API base URL (default $WAYMARK_API)")
	fs.StringVar(&e.apiKey, "api-key", "", "bearer token (default $WAYMARK_API_KEY)")
	fs.DurationVar(&e.timeout, "timeout", 0, "bound the whole command, e.g. 30s (without it, a wait gives up after 5m)")
}

// parseInterleaved parses flags wherever they are among the positional
// arguments; everything after "--" is positional.
func parseInterleaved(fs *flag.FlagSet, args []string) ([]string, error) {
	var tail []string
	if i := slices.Index(args, "--"); i >= 0 {
		args, tail = args[:i], args[i+1:]
	}
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		args = fs.Args()
		if len(args) == 0 {
			break
		}
		pos, args = append(pos, args[0]), args[1:]
	}
	return append(pos, tail...), nil
}

func argsText(c *command) string {
	if len(c.args) == 0 {
		return "no arguments"
	}
	return strings.Join(c.args, " ")
}

func printGroupUsage(w io.Writer, c *command, path []string) {
	fmt.Fprintf(w, "usage: %s <command> [flags]\n\n", strings.Join(path, " "))
	if c.long != "" {
		fmt.Fprintf(w, "%s\n\n", c.long)
	}
	fmt.Fprintln(w, "commands:")
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	for _, s := range c.subs {
		syn := s.name
		if len(s.subs) == 0 && len(s.args) > 0 {
			syn += " " + strings.Join(s.args, " ")
		}
		fmt.Fprintf(tw, "  %s\t%s\n", syn, s.summary)
	}
	_ = tw.Flush()
	fmt.Fprintf(w, "\nRun '%s <command> --help' for a command's flags.\n", strings.Join(path, " "))
}

func printLeafUsage(w io.Writer, c *command, path []string, fs *flag.FlagSet) {
	syn := strings.Join(path, " ")
	if len(c.args) > 0 {
		syn += " " + strings.Join(c.args, " ")
	}
	fmt.Fprintf(w, "usage: %s [flags]\n\n%s\n", syn, c.summary)
	if c.long != "" {
		fmt.Fprintf(w, "\n%s\n", c.long)
	}
	fmt.Fprintln(w, "\nflags:")
	fs.SetOutput(w)
	fs.PrintDefaults()
	fs.SetOutput(io.Discard)
}

// Client returns the SDK client, made on first use from the flags and
// the environment.
func (e *env) Client() (*client.Client, error) {
	if e.client != nil {
		return e.client, nil
	}
	api := firstNonEmpty(e.api, e.io.Getenv(client.EnvAPI))
	if api == "" {
		return nil, fmt.Errorf("%s is not set: run `source .waymark/dev.env` (after `make run`), or pass --api", client.EnvAPI)
	}
	token := firstNonEmpty(e.apiKey, e.io.Getenv(client.EnvAPIKey))
	if e.admin {
		token = firstNonEmpty(e.apiKey, e.io.Getenv("WAYMARK_ADMIN_TOKEN"), token)
	}
	if token == "" {
		return nil, fmt.Errorf("%s is not set: run `source .waymark/dev.env`, or pass --api-key", client.EnvAPIKey)
	}
	c, err := client.New(api, client.WithToken(token), client.WithUserAgent("waymark-cli"))
	if err != nil {
		return nil, err
	}
	e.client = c
	return c, nil
}

func firstNonEmpty(vs ...string) string {
	for _, v := range vs {
		if v != "" {
			return v
		}
	}
	return ""
}

// print writes v as JSON with -o json, else calls table with a tab
// writer whose columns are aligned when it returns.
func (e *env) print(v any, table func(w io.Writer)) error {
	if e.output == "json" {
		enc := json.NewEncoder(e.io.Stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(v)
	}
	tw := tabwriter.NewWriter(e.io.Stdout, 0, 4, 2, ' ', 0)
	table(tw)
	return tw.Flush()
}

// row writes one tab-separated table row.
func row(w io.Writer, cols ...any) {
	for i, c := range cols {
		if i > 0 {
			fmt.Fprint(w, "\t")
		}
		fmt.Fprint(w, c)
	}
	fmt.Fprintln(w)
}

// stamp formats a time for tables: RFC 3339, UTC, to the second.
func stamp(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format(time.RFC3339)
}
