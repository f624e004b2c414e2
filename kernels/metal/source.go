package metal

import (
	_ "embed"
	"fmt"
	"regexp"
	"strings"
)

//go:embed shaders/cogedge.metal
var shaderSource string

// Source returns the Metal Shading Language source of every kernel, as
// compiled by Metal.framework on darwin and by clang in the simulator.
func Source() string { return shaderSource }

// kernelParam is one parameter of a kernel function.
type kernelParam struct {
	typ  string // declared type, address space included ("device const float *")
	name string
	attr string // the attribute without brackets ("buffer(1)", "thread_index_in_simdgroup")
}

// kernelDecl is one `kernel void` function of the source.
type kernelDecl struct {
	name   string
	params []kernelParam
}

var (
	commentRE = regexp.MustCompile(`(?s)//[^\n]*|/\*.*?\*/`)
	kernelRE  = regexp.MustCompile(`\bkernel\s+void\s+(\w+)\s*\(`)
	identRE   = regexp.MustCompile(`(\w+)\s*$`)
)

// parseKernels lists the kernel functions of MSL source with their
// parameters; the simulator generates its call wrappers from it and the
// tests use it to check that every kernel runs.
func parseKernels(src string) ([]kernelDecl, error) {
	src = commentRE.ReplaceAllString(src, "")
	var out []kernelDecl
	for _, m := range kernelRE.FindAllStringSubmatchIndex(src, -1) {
		name := src[m[2]:m[3]]
		open := m[1] - 1
		depth, end := 0, -1
		for i := open; i < len(src) && end < 0; i++ {
			switch src[i] {
			case '(':
				depth++
			case ')':
				depth--
				if depth == 0 {
					end = i
				}
			}
		}
		if end < 0 {
			return nil, fmt.Errorf("metal: kernel %s: unbalanced parentheses", name)
		}
		k := kernelDecl{name: name}
		for _, p := range splitTopLevel(src[open+1 : end]) {
			kp, err := parseParam(p)
			if err != nil {
				return nil, fmt.Errorf("metal: kernel %s: %w", name, err)
			}
			k.params = append(k.params, kp)
		}
		out = append(out, k)
	}
	return out, nil
}

// splitTopLevel splits a parameter list at commas outside (), <> and [].
func splitTopLevel(s string) []string {
	var parts []string
	depth, start := 0, 0
	for i, c := range s {
		switch c {
		case '(', '<', '[':
			depth++
		case ')', '>', ']':
			depth--
		case ',':
			if depth == 0 {
				parts = append(parts, s[start:i])
				start = i + 1
			}
		}
	}
	if strings.TrimSpace(s[start:]) != "" {
		parts = append(parts, s[start:])
	}
	return parts
}

func parseParam(p string) (kernelParam, error) {
	p = strings.TrimSpace(p)
	a := strings.Index(p, "[[")
	b := strings.LastIndex(p, "]]")
	if a < 0 || b < a {
		return kernelParam{}, fmt.Errorf("parameter %q has no attribute", p)
	}
	decl := strings.TrimSpace(p[:a])
	m := identRE.FindStringSubmatchIndex(decl)
	if m == nil {
		return kernelParam{}, fmt.Errorf("parameter %q has no name", p)
	}
	return kernelParam{
		typ:  strings.TrimSpace(decl[:m[2]]),
		name: decl[m[2]:m[3]],
		attr: strings.TrimSpace(p[a+2 : b]),
	}, nil
}
