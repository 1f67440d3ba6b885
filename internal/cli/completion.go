package cli

import (
	"context"
	"flag"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/waymark-dns/waymark/client"
)

// The completion scripts ask the binary itself (`waymark __complete
// WORDS…`, the words before the cursor) for the candidates, so they
// follow the command tree and can offer the account's zone names.
const (
	bashCompletion = `# bash completion for waymark: source <(waymark completion bash)
_waymark() {
  local IFS=$'\n' cur="${COMP_WORDS[COMP_CWORD]}"
  COMPREPLY=($(compgen -W "$(waymark __complete "${COMP_WORDS[@]:1:COMP_CWORD-1}" 2>/dev/null)" -- "$cur"))
}
complete -o default -F _waymark waymark
`
	zshCompletion = `#compdef waymark
# zsh completion for waymark: source <(waymark completion zsh)
_waymark() {
  local -a candidates
  candidates=("${(@f)$(waymark __complete "${(@)words[2,CURRENT-1]}" 2>/dev/null)}")
  compadd -a candidates
}
if (( $+functions[compdef] )); then compdef _waymark waymark; fi
`
	fishCompletion = `# fish completion for waymark: waymark completion fish | source
complete -c waymark -f -a '(waymark __complete (commandline -opc)[2..-1])'
`
)

func completionCommand() *command {
	return &command{name: "completion", args: []string{"bash|zsh|fish"}, minArgs: 1, maxArgs: 1,
		summary: "print a shell completion script",
		long:    "bash: source <(waymark completion bash)\nzsh:  source <(waymark completion zsh)\nfish: waymark completion fish | source",
		run: func(_ context.Context, e *env, args []string) error {
			scripts := map[string]string{"bash": bashCompletion, "zsh": zshCompletion, "fish": fishCompletion}
			s, ok := scripts[args[0]]
			if !ok {
				return usagef("no completion for %q: bash, zsh or fish", args[0])
			}
			_, err := io.WriteString(e.io.Stdout, s)
			return err
		}}
}

// recordTypes are offered for TYPE arguments.
func recordTypes() []string {
	return []string{"A", "AAAA", "CAA", "CNAME", "DS", "HTTPS", "MX", "NAPTR", "NS", "PTR", "SOA", "SPF", "SRV", "SSHFP", "SVCB", "TLSA", "TXT"}
}

// complete prints the candidates for the word after words, one a line.
func complete(ctx context.Context, root *command, words []string, sys IO, serverRoles []string) {
	cmd := root
	i := 0
	for ; i < len(words) && len(cmd.subs) > 0; i++ {
		sub := findSub(cmd, words[i])
		if sub == nil {
			return
		}
		cmd = sub
	}
	var out []string
	switch {
	case len(cmd.subs) > 0:
		for _, s := range cmd.subs {
			out = append(out, s.name)
		}
		if cmd == root {
			out = append(out, serverRoles...)
		}
	default:
		// Flags, then what the next positional argument can be.
		fs := flag.NewFlagSet("", flag.ContinueOnError)
		fs.SetOutput(io.Discard)
		addGlobalFlags(fs, &env{})
		if cmd.flags != nil {
			cmd.flags(fs)
		}
		fs.VisitAll(func(f *flag.Flag) {
			if len(f.Name) == 1 {
				out = append(out, "-"+f.Name)
			} else {
				out = append(out, "--"+f.Name)
			}
		})
		n := countPositional(fs, words[i:])
		if n < len(cmd.args) || len(cmd.args) > 0 && strings.HasSuffix(cmd.args[len(cmd.args)-1], "…") {
			arg := cmd.args[min(n, len(cmd.args)-1)]
			switch {
			case arg == "ZONE":
				out = append(out, zoneNames(ctx, sys)...)
			case arg == "TYPE":
				out = append(out, recordTypes()...)
			case strings.Contains(arg, "|"):
				out = append(out, strings.Split(strings.Trim(arg, "[]"), "|")...)
			}
		}
	}
	slices.Sort(out)
	for _, s := range slices.Compact(out) {
		fmt.Fprintln(sys.Stdout, s)
	}
}

// countPositional counts the positional words, skipping flags and the
// values of flags that take one.
func countPositional(fs *flag.FlagSet, words []string) int {
	n := 0
	for j := 0; j < len(words); j++ {
		w := words[j]
		if !strings.HasPrefix(w, "-") || w == "-" {
			n++
			continue
		}
		name := strings.TrimLeft(w, "-")
		if strings.Contains(name, "=") {
			continue
		}
		if f := fs.Lookup(name); f != nil {
			if b, ok := f.Value.(interface{ IsBoolFlag() bool }); !ok || !b.IsBoolFlag() {
				j++ // its value
			}
		}
	}
	return n
}

// zoneNames lists the account's zone names for completion, quietly
// giving none when the API cannot be reached in a second.
func zoneNames(ctx context.Context, sys IO) []string {
	api, token := sys.Getenv(client.EnvAPI), sys.Getenv(client.EnvAPIKey)
	if api == "" || token == "" {
		return nil
	}
	c, err := client.New(api, client.WithToken(token), client.WithRetryPolicy(client.RetryPolicy{MaxAttempts: 1}))
	if err != nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	var names []string
	for z, err := range c.HostedZones(ctx, nil) {
		if err != nil || len(names) >= 500 {
			break
		}
		names = append(names, strings.TrimSuffix(z.Name, "."))
	}
	return names
}
