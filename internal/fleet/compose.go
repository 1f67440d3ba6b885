package fleet

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"go.yaml.in/yaml/v4"
)

// Compose is the part of a docker-compose.yml that the harness runs as
// processes (TestComposeFile): services with their image or build, command
// line, environment, volumes, ports and dependencies.
type Compose struct {
	Services map[string]*ComposeService
}

// ComposeService is one service, its strings interpolated.
type ComposeService struct {
	Name  string
	Image string
	// Build is set when the image is built from the repository.
	Build bool
	// Command is the exec form (a list): the harness never runs a shell.
	Command     []string
	Environment map[string]string
	// Volumes maps a container path to the named volume mounted there.
	Volumes map[string]string
	// Binds maps a container path to the file or directory of the
	// repository bind-mounted there (./path or /path in the file), as the
	// file names it.
	Binds map[string]string
	// Ports are the container ports the service listens on: its expose
	// entries and the container side of its ports entries.
	Ports []string
	// DependsOn maps each dependency to its condition
	// (service_started unless the file says otherwise).
	DependsOn map[string]string
}

type composeFile struct {
	Services map[string]struct {
		Image       string            `yaml:"image"`
		Build       any               `yaml:"build"`
		Command     any               `yaml:"command"`
		Environment map[string]string `yaml:"environment"`
		Volumes     []string          `yaml:"volumes"`
		Expose      []string          `yaml:"expose"`
		Ports       []string          `yaml:"ports"`
		DependsOn   any               `yaml:"depends_on"`
	} `yaml:"services"`
}

// ParseCompose reads a compose file, interpolating ${VAR}, ${VAR:-default}
// and ${VAR:?message} in every string with lookup, as docker compose does
// with its environment and .env file.
func ParseCompose(data []byte, lookup func(string) (string, bool)) (*Compose, error) {
	var f composeFile
	if err := yaml.Unmarshal(data, &f); err != nil {
		return nil, fmt.Errorf("compose: %w", err)
	}
	if len(f.Services) == 0 {
		return nil, errors.New("compose: no services")
	}
	c := &Compose{Services: map[string]*ComposeService{}}
	var errs []error
	in := func(where, s string) string {
		v, err := Interpolate(s, lookup)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", where, err))
		}
		return v
	}
	for name, raw := range f.Services {
		s := &ComposeService{Name: name, Image: in(name+".image", raw.Image), Build: raw.Build != nil,
			Environment: map[string]string{}, Volumes: map[string]string{}, Binds: map[string]string{},
			DependsOn: map[string]string{}}
		switch cmd := raw.Command.(type) {
		case nil:
		case []any:
			for _, a := range cmd {
				str, ok := a.(string)
				if !ok {
					errs = append(errs, fmt.Errorf("%s.command: %v is not a string", name, a))
					continue
				}
				s.Command = append(s.Command, in(name+".command", str))
			}
		default:
			errs = append(errs, fmt.Errorf("%s.command: use the exec form, a list of strings", name))
		}
		for k, v := range raw.Environment {
			s.Environment[k] = in(name+".environment."+k, v)
		}
		for _, v := range raw.Volumes {
			vol, path, ok := strings.Cut(in(name+".volumes", v), ":")
			if !ok || !strings.HasPrefix(path, "/") {
				errs = append(errs, fmt.Errorf("%s.volumes: %q is not volume:/path", name, v))
				continue
			}
			path, _, _ = strings.Cut(path, ":") // :ro
			if strings.HasPrefix(vol, ".") || strings.HasPrefix(vol, "/") {
				s.Binds[path] = vol // a bind mount, not a named volume
				continue
			}
			s.Volumes[path] = vol
		}
		s.Ports = append(s.Ports, raw.Expose...)
		for _, p := range raw.Ports {
			p = in(name+".ports", p)
			p, _, _ = strings.Cut(p, "/") // /udp
			if i := strings.LastIndexByte(p, ':'); i >= 0 {
				p = p[i+1:]
			}
			if !slices.Contains(s.Ports, p) {
				s.Ports = append(s.Ports, p)
			}
		}
		switch d := raw.DependsOn.(type) {
		case nil:
		case []any:
			for _, n := range d {
				if str, ok := n.(string); ok {
					s.DependsOn[str] = "service_started"
				} else {
					errs = append(errs, fmt.Errorf("%s.depends_on: %v is not a name", name, n))
				}
			}
		case map[string]any:
			for n, v := range d {
				cond := "service_started"
				if m, ok := v.(map[string]any); ok {
					if c, ok := m["condition"].(string); ok {
						cond = c
					}
				}
				s.DependsOn[n] = cond
			}
		default:
			errs = append(errs, fmt.Errorf("%s.depends_on: neither a list nor a map", name))
		}
		c.Services[name] = s
	}
	for _, s := range c.Services {
		for d := range s.DependsOn {
			if c.Services[d] == nil {
				errs = append(errs, fmt.Errorf("%s depends on %s, which is not a service", s.Name, d))
			}
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return c, nil
}

// Order returns the services in an order that starts every service after
// those it depends on (ties by name), or an error on a cycle.
func (c *Compose) Order() ([]*ComposeService, error) {
	var out []*ComposeService
	state := map[string]int{} // 1 visiting, 2 done
	var visit func(name string) error
	visit = func(name string) error {
		switch state[name] {
		case 1:
			return fmt.Errorf("compose: depends_on cycle through %s", name)
		case 2:
			return nil
		}
		state[name] = 1
		s := c.Services[name]
		deps := make([]string, 0, len(s.DependsOn))
		for d := range s.DependsOn {
			deps = append(deps, d)
		}
		slices.Sort(deps)
		for _, d := range deps {
			if err := visit(d); err != nil {
				return err
			}
		}
		state[name] = 2
		out = append(out, s)
		return nil
	}
	names := make([]string, 0, len(c.Services))
	for n := range c.Services {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		if err := visit(n); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// Interpolate replaces $VAR, ${VAR}, ${VAR:-default}, ${VAR-default},
// ${VAR:?message} and ${VAR?message} in s with lookup's values, as compose
// does; $$ is a literal $. An unset (or, with the colon, empty) variable
// with ? is an error carrying its message.
func Interpolate(s string, lookup func(string) (string, bool)) (string, error) {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '$' {
			b.WriteByte(s[i])
			continue
		}
		if i+1 >= len(s) {
			return "", errors.New("a lone $ at the end (write $$ for a literal $)")
		}
		switch c := s[i+1]; {
		case c == '$':
			b.WriteByte('$')
			i++
		case c == '{':
			end := strings.IndexByte(s[i+2:], '}')
			if end < 0 {
				return "", fmt.Errorf("unterminated ${ in %q", s)
			}
			expr := s[i+2 : i+2+end]
			i += 2 + end
			v, err := expand(expr, lookup)
			if err != nil {
				return "", err
			}
			b.WriteString(v)
		case isVarByte(c, true):
			j := i + 1
			for j < len(s) && isVarByte(s[j], j == i+1) {
				j++
			}
			v, _ := lookup(s[i+1 : j])
			b.WriteString(v)
			i = j - 1
		default:
			return "", fmt.Errorf("invalid $ in %q (write $$ for a literal $)", s)
		}
	}
	return b.String(), nil
}

// expand evaluates the inside of ${…}.
func expand(expr string, lookup func(string) (string, bool)) (string, error) {
	j := 0
	for j < len(expr) && isVarByte(expr[j], j == 0) {
		j++
	}
	name, op := expr[:j], expr[j:]
	if name == "" {
		return "", fmt.Errorf("invalid variable in ${%s}", expr)
	}
	v, set := lookup(name)
	colon := strings.HasPrefix(op, ":")
	if colon {
		op = op[1:]
	}
	missing := !set || (colon && v == "")
	switch {
	case op == "" && !colon:
		return v, nil
	case strings.HasPrefix(op, "-"):
		if missing {
			return op[1:], nil
		}
		return v, nil
	case strings.HasPrefix(op, "?"):
		if missing {
			return "", fmt.Errorf("%s: %s", name, op[1:])
		}
		return v, nil
	}
	return "", fmt.Errorf("unsupported ${%s}", expr)
}

func isVarByte(c byte, first bool) bool {
	return c == '_' || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (!first && c >= '0' && c <= '9')
}
