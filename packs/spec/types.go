package spec

import "fmt"

// APIVersion is the only pack format version this build reads. A pack may
// omit apiVersion; it then means this version.
const APIVersion = "warden/v1"

// PackFile is the name of a pack's manifest inside its directory.
const PackFile = "pack.yaml"

// Level is an enforcement level, as the Pulumi engine spells it.
type Level string

// Enforcement levels, from weakest to strictest (see Level.Rank).
const (
	Disabled  Level = "disabled"
	Advisory  Level = "advisory"
	Remediate Level = "remediate"
	Mandatory Level = "mandatory"
)

// Shadow is Warden's own rollout level, not the engine's: a policy in
// shadow runs and its findings are recorded in the ledger, but nothing is
// shown to the person deploying and nothing blocks. It is never sent to
// the engine and is not Valid in a pack.
const Shadow Level = "shadow"

// Levels lists the valid levels in the order users read them.
var Levels = []Level{Advisory, Mandatory, Remediate, Disabled}

// Rank orders levels for "strictest wins": mandatory > remediate > advisory >
// disabled. An unknown level ranks below disabled.
func (l Level) Rank() int {
	switch l {
	case Mandatory:
		return 4
	case Remediate:
		return 3
	case Advisory:
		return 2
	case Disabled:
		return 1
	}
	return 0
}

// Valid reports whether l is one of the four levels.
func (l Level) Valid() bool { return l.Rank() > 0 }

// Severity is how bad a violation is.
type Severity string

// Severities known to the Pulumi engine.
const (
	Low      Severity = "low"
	Medium   Severity = "medium"
	High     Severity = "high"
	Critical Severity = "critical"
)

// Severities lists the valid severities, lowest first.
var Severities = []Severity{Low, Medium, High, Critical}

// Rank orders severities, lowest first; unspecified ranks 0.
func (s Severity) Rank() int {
	for i, v := range Severities {
		if v == s {
			return i + 1
		}
	}
	return 0
}

// Valid reports whether s is a known severity. The empty severity is valid
// and means "unspecified", as in Pulumi.
func (s Severity) Valid() bool {
	switch s {
	case "", Low, Medium, High, Critical:
		return true
	}
	return false
}

// Kind says what a policy looks at.
type Kind string

// Policy kinds.
const (
	// ResourceKind policies see one resource's inputs, before it is deployed.
	ResourceKind Kind = "resource"
	// StackKind policies see every resource's outputs at the end of a run.
	StackKind Kind = "stack"
)

// Pack is a parsed pack.yaml.
type Pack struct {
	File             string // path of pack.yaml as given to the loader
	Source           []byte // the file's text, for error snippets
	Pos              Pos
	APIVersion       string
	Name             string
	Version          string
	Description      string
	EnforcementLevel Level // default for policies that set none; advisory if unset
	Tags             []string
	Policies         []*Policy
}

// String is "name@version".
func (p *Pack) String() string { return fmt.Sprintf("%s@%s", p.Name, p.Version) }

// Policy is one policy of a pack, as written.
type Policy struct {
	Pos              Pos
	Name             string
	Description      string
	Kind             Kind
	Severity         Severity
	EnforcementLevel Level // empty: the pack's level
	Framework        *Framework
	Tags             []string
	RemediationSteps string
	URL              string

	// Controls are the framework controls the policy checks, each
	// "framework/control" (cis-aws-3.0/5.2): a framework view selects the
	// policies that name one of its controls. Framework is the one the
	// engine reports; Controls may name several frameworks. Nil when the
	// key is absent, empty when it says none.
	Controls   []string
	ControlPos []Pos

	// ResourceTypes filters resource policies by type token; empty means every
	// type. Tokens may contain * globs.
	ResourceTypes   []string
	ResourceTypePos []Pos

	// Config is the JSON Schema of the policy's config (an object schema).
	Config *Schema

	Variables []*Variable
	When      *Guard
	ForEach   *Expr
	Violation *Expr
	Message   *Template
	Remediate *Remediation
}

// Framework names the compliance framework a policy implements.
type Framework struct {
	Name          string
	Version       string
	Reference     string
	Specification string
}

// Schema is a JSON Schema written in YAML, decoded to JSON-like values.
type Schema struct {
	Pos   Pos
	Value map[string]any
}

// Variable is a named sub-expression, evaluated at most once per evaluation
// and only when an expression uses it (as in Kubernetes ValidatingAdmissionPolicy).
type Variable struct {
	Pos  Pos
	Name string
	Expr *Expr
}

// Guard is an applicability condition: when it is false the policy is
// reported as not applicable, with Reason.
type Guard struct {
	Expr   *Expr
	Reason string
}

// Remediation rewrites a resource's inputs: Set assigns CEL-computed values
// to property paths, Remove deletes paths. Set runs before Remove.
type Remediation struct {
	Pos    Pos
	Set    []*Assignment
	Remove []*PathRef
}

// Assignment sets Path to the value of Expr.
type Assignment struct {
	Path *PathRef
	Expr *Expr
}

// PathRef is a property path such as tags.owner or ingress[0].cidrBlocks.
type PathRef struct {
	Pos  Pos
	Text string
	Path Path
}

// Expr is CEL source text with the file position of each of its lines, so
// that a CEL error at (line, column) maps back to the YAML file.
type Expr struct {
	Source string
	Lines  []Pos // Lines[i]: where line i+1 of Source starts in the file
}

// Pos is where the expression starts.
func (e *Expr) Pos() Pos {
	if e == nil || len(e.Lines) == 0 {
		return Pos{}
	}
	return e.Lines[0]
}

// At maps a CEL location (1-based line, 0-based column) to a file position.
func (e *Expr) At(line, col int) Pos {
	if e == nil || len(e.Lines) == 0 {
		return Pos{}
	}
	if line < 1 {
		line = 1
	}
	if line > len(e.Lines) {
		return e.Lines[len(e.Lines)-1]
	}
	p := e.Lines[line-1]
	p.Col += col
	return p
}

// Template is a message with {{ expression }} placeholders.
type Template struct {
	Pos   Pos
	Text  string
	Parts []TemplatePart
}

// TemplatePart is literal text, or an expression when Expr is set.
type TemplatePart struct {
	Literal string
	Expr    *Expr
}
