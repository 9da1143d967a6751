package sandbox

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/immigrate/immigrate/tencentim"
)

// FaultKind is what an injected fault does (spec §10, §14 item 11).
type FaultKind int

const (
	// FaultCode answers HTTP 200 with ErrorCode Fault.Code; state is untouched.
	FaultCode FaultKind = iota + 1
	// FaultHTTP502 answers HTTP 502 with a non-JSON body; state is untouched.
	FaultHTTP502
	// FaultReset closes the connection without answering; state is untouched.
	FaultReset
	// FaultDropResponse applies the request to the state, then closes the
	// connection instead of answering: the client cannot tell whether its call
	// took effect, which is the case resume logic must survive.
	FaultDropResponse
)

func (k FaultKind) String() string {
	switch k {
	case FaultCode:
		return "code"
	case FaultHTTP502:
		return "http502"
	case FaultReset:
		return "reset"
	case FaultDropResponse:
		return "drop"
	}
	return "FaultKind(" + strconv.Itoa(int(k)) + ")"
}

// Fault is one fault-injection rule. It fires either with Probability on each call
// of Command, or on every Nth call of it (exactly one of the two is set). The zero
// Command matches every command, and its Nth counts calls of all commands together.
// Only calls that passed authentication and the rate limiter are counted.
type Fault struct {
	Command     tencentim.Command
	Probability float64
	Nth         int
	Kind        FaultKind
	Code        int // the ErrorCode of a FaultCode
}

func (f Fault) validate() error {
	switch f.Kind {
	case FaultCode:
		if f.Code == 0 {
			return errors.New("a code fault needs a non-zero code")
		}
	case FaultHTTP502, FaultReset, FaultDropResponse:
		if f.Code != 0 {
			return fmt.Errorf("a %s fault takes no code", f.Kind)
		}
	default:
		return fmt.Errorf("unknown fault kind %d", int(f.Kind))
	}
	if f.Probability < 0 || f.Probability > 1 || f.Probability != f.Probability {
		return fmt.Errorf("probability %v is not within 0..1", f.Probability)
	}
	if f.Nth < 0 {
		return fmt.Errorf("nth %d is negative", f.Nth)
	}
	if (f.Probability > 0) == (f.Nth > 0) {
		return errors.New("exactly one of probability and nth must be set")
	}
	if f.Command != (tencentim.Command{}) && !slices.Contains(knownCommands(), f.Command) {
		return fmt.Errorf("unknown command %s", f.Command)
	}
	return nil
}

// ParseFaults parses the --faults syntax of `immigrate sandbox`: comma-separated
// rules, each a kind followed by colon-separated options.
//
//	kind:   code=N     answer ErrorCode N (e.g. code=60007, code=91000)
//	        http502    answer HTTP 502
//	        reset      close the connection without answering
//	        drop       apply the request, then close the connection
//	option: p=F        fire with probability F (0 < F <= 1) on each call, or
//	        nth=N      fire on every Nth call (N >= 1), counted per rule
//	        cmd=NAME   only for this command: a bare name ("importmsg") or
//	                   service/command ("openim/importmsg"); default every command
//
// Example: "code=60007:p=0.1,http502:p=0.05,reset:cmd=openim/importmsg:nth=50,drop:p=0.02".
// "" and "off" mean no faults. Rules are checked in order; the first that fires
// wins.
func ParseFaults(spec string) ([]Fault, error) {
	spec = strings.TrimSpace(spec)
	if spec == "" || spec == "off" {
		return nil, nil
	}
	var out []Fault
	for _, rule := range strings.Split(spec, ",") {
		rule = strings.TrimSpace(rule)
		f, err := parseFault(rule)
		if err != nil {
			return nil, fmt.Errorf("fault %q: %w", rule, err)
		}
		out = append(out, f)
	}
	return out, nil
}

func parseFault(rule string) (Fault, error) {
	parts := strings.Split(rule, ":")
	var f Fault
	switch kind, arg, hasArg := strings.Cut(strings.TrimSpace(parts[0]), "="); {
	case kind == "code" && hasArg:
		n, err := strconv.Atoi(arg)
		if err != nil || n == 0 {
			return f, fmt.Errorf("bad code %q", arg)
		}
		f.Kind, f.Code = FaultCode, n
	case hasArg:
		return f, fmt.Errorf("kind %q takes no value", kind)
	case kind == "http502" || kind == "502":
		f.Kind = FaultHTTP502
	case kind == "reset":
		f.Kind = FaultReset
	case kind == "drop":
		f.Kind = FaultDropResponse
	default:
		return f, fmt.Errorf("unknown kind %q (want code=N, http502, reset or drop)", parts[0])
	}
	for _, opt := range parts[1:] {
		key, val, ok := strings.Cut(strings.TrimSpace(opt), "=")
		if !ok {
			return f, fmt.Errorf("option %q is not key=value", opt)
		}
		switch key {
		case "p":
			p, err := strconv.ParseFloat(val, 64)
			if err != nil || !(p > 0 && p <= 1) {
				return f, fmt.Errorf("bad probability %q (want 0 < p <= 1)", val)
			}
			f.Probability = p
		case "nth":
			n, err := strconv.Atoi(val)
			if err != nil || n < 1 {
				return f, fmt.Errorf("bad nth %q (want an integer >= 1)", val)
			}
			f.Nth = n
		case "cmd":
			cmd, err := resolveCommand(val)
			if err != nil {
				return f, err
			}
			f.Command = cmd
		default:
			return f, fmt.Errorf("unknown option %q (want p, nth or cmd)", key)
		}
	}
	if err := f.validate(); err != nil {
		return f, err
	}
	return f, nil
}

// knownCommands lists every command the sandbox serves, sorted.
func knownCommands() []tencentim.Command {
	set := map[tencentim.Command]bool{}
	for _, c := range tencentim.Commands {
		set[c] = true
	}
	for c := range tencentim.DocumentedRate {
		set[c] = true
	}
	for c := range userRoutes {
		set[c] = true
	}
	for c := range groupRoutes {
		set[c] = true
	}
	out := make([]tencentim.Command, 0, len(set))
	for c := range set {
		out = append(out, c)
	}
	slices.SortFunc(out, func(a, b tencentim.Command) int { return strings.Compare(a.String(), b.String()) })
	return out
}

// resolveCommand finds a command by "service/command" or by its bare name.
func resolveCommand(name string) (tencentim.Command, error) {
	name = strings.TrimPrefix(strings.TrimSpace(name), "v4/")
	var found []tencentim.Command
	for _, c := range knownCommands() {
		if c.String() == name || c.Name == name {
			found = append(found, c)
		}
	}
	switch len(found) {
	case 1:
		return found[0], nil
	case 0:
		return tencentim.Command{}, fmt.Errorf("unknown command %q", name)
	default:
		return tencentim.Command{}, fmt.Errorf("command %q is ambiguous; use service/command", name)
	}
}

// faultInjector decides which calls fail. Its counters and the seeded random draws
// are serialised by mu, so a single-client run is reproducible for a given seed.
type faultInjector struct {
	mu     sync.Mutex
	faults []Fault
	counts []int
}

func newFaultInjector(faults []Fault) *faultInjector {
	return &faultInjector{faults: slices.Clone(faults), counts: make([]int, len(faults))}
}

// pick returns the fault to inject into this call of cmd, or nil. Every matching
// rule counts the call (and draws its random number) whether or not an earlier
// rule fires, so that one rule's schedule does not depend on the others.
func (fi *faultInjector) pick(cmd tencentim.Command, draw func() float64) *Fault {
	if fi == nil || len(fi.faults) == 0 {
		return nil
	}
	fi.mu.Lock()
	defer fi.mu.Unlock()
	var fired *Fault
	for i := range fi.faults {
		f := &fi.faults[i]
		if f.Command != (tencentim.Command{}) && f.Command != cmd {
			continue
		}
		fi.counts[i]++
		hit := false
		if f.Nth > 0 {
			hit = fi.counts[i]%f.Nth == 0
		} else {
			hit = draw() < f.Probability
		}
		if hit && fired == nil {
			fired = f
		}
	}
	return fired
}
