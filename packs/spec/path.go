package spec

import (
	"fmt"
	"strconv"
	"strings"
)

// Path addresses a value inside a resource's properties: a sequence of map
// keys and list indexes.
type Path []PathElem

// PathElem is one step of a Path: a key, or an index when IsIndex is set.
type PathElem struct {
	Key     string
	Index   int
	IsIndex bool
}

// ParsePath reads a property path: keys separated by dots, list indexes and
// quoted keys in brackets, e.g. tags.owner, ingress[0].cidrBlocks,
// tags["cost-center"].
func ParsePath(s string) (Path, error) {
	var p Path
	i := 0
	expectKey := true
	for i < len(s) {
		switch c := s[i]; {
		case c == '.':
			if expectKey {
				return nil, fmt.Errorf("empty key at offset %d in path %q", i, s)
			}
			expectKey = true
			i++
		case c == '[':
			end := strings.IndexByte(s[i:], ']')
			if end < 0 {
				return nil, fmt.Errorf("unclosed [ in path %q", s)
			}
			inner := s[i+1 : i+end]
			switch {
			case len(inner) >= 2 && (inner[0] == '"' || inner[0] == '\''):
				key, err := strconv.Unquote(`"` + inner[1:len(inner)-1] + `"`)
				if err != nil || inner[len(inner)-1] != inner[0] {
					return nil, fmt.Errorf("bad quoted key %s in path %q", inner, s)
				}
				p = append(p, PathElem{Key: key})
			default:
				n, err := strconv.Atoi(inner)
				if err != nil || n < 0 {
					return nil, fmt.Errorf("bad index [%s] in path %q: want a number or a quoted key", inner, s)
				}
				p = append(p, PathElem{Index: n, IsIndex: true})
			}
			i += end + 1
			expectKey = false
		default:
			if !expectKey {
				return nil, fmt.Errorf("missing . before %q in path %q", s[i:], s)
			}
			j := i
			for j < len(s) && s[j] != '.' && s[j] != '[' {
				j++
			}
			p = append(p, PathElem{Key: s[i:j]})
			i = j
			expectKey = false
		}
	}
	if len(p) == 0 || expectKey {
		return nil, fmt.Errorf("path %q is empty or ends with a dot", s)
	}
	return p, nil
}

// String renders the path as Pulumi's SDKs name property paths in messages:
// a leading dot, keys and indexes joined by dots (.ingress.0.cidrBlocks).
func (p Path) String() string {
	var b strings.Builder
	for _, e := range p {
		b.WriteByte('.')
		if e.IsIndex {
			b.WriteString(strconv.Itoa(e.Index))
		} else {
			b.WriteString(e.Key)
		}
	}
	return b.String()
}

// Append returns a copy of p with e added, leaving p untouched.
func (p Path) Append(e PathElem) Path {
	out := make(Path, len(p), len(p)+1)
	copy(out, p)
	return append(out, e)
}
