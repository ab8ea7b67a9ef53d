package engine

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"cel.dev/cel-go/cel"
	exprpb "google.golang.org/genproto/googleapis/api/expr/v1alpha1"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"

	"github.com/warden-policy/warden/packs/spec"
)

// Parsing and type-checking CEL is most of what loading a pack costs, and
// a fresh plugin process loads its packs for every preview. A pack that
// compiled once therefore keeps its checked expressions in a cache
// directory, one file per pack content and Warden build, and the next
// load plans programs from them without parsing or checking anything.
// Like Go's build cache, the directory is the user's own: whoever can
// write it can also write the packs and the binary.

var cacheDir atomic.Pointer[string]

// checked counts the expressions parsed and checked in this process (the
// cache's tests read it).
var checked atomic.Int64

// SetCacheDir turns the checked-expression cache on, in dir ("" turns it
// off, the default). Processes that load packs often (the plugin, the
// CLI) set it at start-up; tests leave it off.
func SetCacheDir(dir string) { cacheDir.Store(&dir) }

// cachePath is the cache directory, "" when the cache is off.
func cachePath() string {
	if d := cacheDir.Load(); d != nil {
		return *d
	}
	return ""
}

// buildID names the Warden build: a cached checked expression is only
// valid for the declarations of the build that checked it. Module
// versions, the VCS revision and the executable's size and time cover
// releases and rebuilt development trees alike.
var buildID = sync.OnceValue(func() string {
	h := sha256.New()
	if bi, ok := debug.ReadBuildInfo(); ok {
		fmt.Fprintln(h, bi.GoVersion, bi.Main.Path, bi.Main.Version)
		for _, d := range bi.Deps {
			fmt.Fprintln(h, d.Path, d.Version, d.Sum)
		}
		for _, s := range bi.Settings {
			fmt.Fprintln(h, s.Key, s.Value)
		}
	}
	if exe, err := os.Executable(); err == nil {
		if fi, err := os.Stat(exe); err == nil {
			fmt.Fprintln(h, exe, fi.Size(), fi.ModTime().UnixNano())
		}
	}
	return hex.EncodeToString(h.Sum(nil))
})

// packDigest names a pack's expressions for the cache: every source text
// that compiling depends on, in the order the compiler visits them, and the
// Warden build.
func packDigest(sp *spec.Pack) string { return sourceDigest(sp, buildID()) }

// sourceDigest is packDigest for the given build ("" for checked
// expressions that ship with the build itself: see CheckedASTs).
func sourceDigest(sp *spec.Pack, build string) string {
	h := sha256.New()
	field := func(s string) { fmt.Fprintf(h, "%d:%s;", len(s), s) }
	expr := func(e *spec.Expr) {
		if e == nil {
			field("")
			return
		}
		field(e.Source)
	}
	field(build)
	for _, ps := range sp.Policies {
		field(ps.Name)
		field(string(ps.Kind))
		expr(ps.ForEach)
		for _, v := range ps.Variables {
			field(v.Name)
			expr(v.Expr)
		}
		if ps.When != nil {
			expr(ps.When.Expr)
		}
		expr(ps.Violation)
		if ps.Message != nil {
			for _, part := range ps.Message.Parts {
				field(part.Literal)
				expr(part.Expr)
			}
		}
		if ps.Remediate != nil {
			for _, a := range ps.Remediate.Set {
				field(a.Path.Text)
				expr(a.Expr)
			}
		}
	}
	return hex.EncodeToString(h.Sum(nil))
}

// astKey names one expression within a pack: its policy and its place in
// the order the compiler visits the policy's expressions.
func astKey(policy string, n int) string { return policy + "\x00" + strconv.Itoa(n) }

// Every build has its own entries, so the directory is trimmed as Go's
// build cache is: an entry in use has its time refreshed (at most daily),
// and one unused for trimAfter is removed when another is written.
const (
	refreshAfter = 24 * time.Hour
	trimAfter    = 7 * 24 * time.Hour
)

// encodeASTs is a pack's checked expressions as one file: key and value,
// length-prefixed, in key order.
func encodeASTs(asts map[string][]byte) []byte {
	var data []byte
	for _, k := range slices.Sorted(maps.Keys(asts)) {
		data = protowire.AppendBytes(data, []byte(k))
		data = protowire.AppendBytes(data, asts[k])
	}
	return data
}

// decodeASTs reads encodeASTs' form; nil when it is malformed.
func decodeASTs(data []byte) map[string][]byte {
	out := map[string][]byte{}
	for len(data) > 0 {
		k, n := protowire.ConsumeBytes(data)
		if n < 0 {
			return nil
		}
		data = data[n:]
		v, n := protowire.ConsumeBytes(data)
		if n < 0 {
			return nil
		}
		data = data[n:]
		out[string(k)] = v
	}
	return out
}

// CheckedASTs compiles every expression of the pack in dir of fsys and
// returns their checked forms as one file, for LoadFSLazyChecked: the
// built-in packs ship theirs, generated (go generate ./packs/builtin), so
// that a policy's first use in a plugin plans its programs without
// parsing or checking anything. The file names the sources it was checked
// from; it is valid for the Warden build whose code generated it (a test
// regenerates it and compares).
func CheckedASTs(fsys fs.FS, dir string) ([]byte, error) {
	sp, err := spec.LoadPackFS(fsys, dir)
	if err != nil {
		return nil, err
	}
	envs, err := packEnvs()
	if err != nil {
		return nil, err
	}
	p := &Pack{Name: sp.Name, Level: sp.EnforcementLevel}
	all := map[string][]byte{}
	for _, ps := range sp.Policies {
		var errs spec.ErrorList
		c := &compiler{pack: p, errs: &errs, cached: map[string][]byte{}}
		c.policy(ps, envs)
		if err := errs.Err(); err != nil {
			return nil, err
		}
		maps.Copy(all, c.fresh)
	}
	head := protowire.AppendBytes(nil, []byte(sourceDigest(sp, "")))
	return append(head, encodeASTs(all)...), nil
}

// LoadFSLazyChecked is LoadFSLazy with the pack's checked expressions from
// CheckedASTs. Checked from other sources (the pack was edited and they
// were not generated again), they are ignored: the policies compile from
// source.
func LoadFSLazyChecked(fsys fs.FS, dir string, checked []byte) (*Pack, error) {
	sp, err := spec.LoadPackFS(fsys, dir)
	if err != nil {
		return nil, err
	}
	var asts map[string][]byte
	if digest, n := protowire.ConsumeBytes(checked); n > 0 && string(digest) == sourceDigest(sp, "") {
		asts = decodeASTs(checked[n:])
	}
	return compileLazy(sp, asts)
}

// loadASTs reads the cached expressions of a pack; a missing, unreadable
// or malformed file is an empty cache.
func loadASTs(dir, digest string) map[string][]byte {
	file := filepath.Join(dir, digest)
	f, err := os.Open(file)
	if err != nil {
		return nil
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil
	}
	data, err := io.ReadAll(f)
	if err != nil {
		return nil
	}
	if time.Since(fi.ModTime()) > refreshAfter {
		now := time.Now()
		_ = os.Chtimes(file, now, now)
	}
	return decodeASTs(data)
}

// saveASTs writes a pack's expressions, atomically; failing to is not an
// error (the next load compiles again).
func saveASTs(dir, digest string, asts map[string][]byte) {
	data := encodeASTs(asts)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return
	}
	f, err := os.CreateTemp(dir, digest+".*.tmp")
	if err != nil {
		return
	}
	_, werr := f.Write(data)
	cerr := f.Close()
	if werr != nil || cerr != nil || os.Rename(f.Name(), filepath.Join(dir, digest)) != nil {
		_ = os.Remove(f.Name())
	}
	trim(dir)
}

// trim removes the entries (and abandoned temporary files) unused for
// trimAfter.
func trim(dir string) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	for _, e := range entries {
		if fi, err := e.Info(); err == nil && fi.Mode().IsRegular() && time.Since(fi.ModTime()) > trimAfter {
			_ = os.Remove(filepath.Join(dir, e.Name()))
		}
	}
}

func encodeAST(a *cel.Ast) ([]byte, error) {
	ce, err := cel.AstToCheckedExpr(a)
	if err != nil {
		return nil, err
	}
	// Deterministic: the built-in packs' checked expressions are generated
	// into the source tree, and a test compares them with a fresh run.
	return proto.MarshalOptions{Deterministic: true}.Marshal(ce)
}

func decodeAST(data []byte) (*cel.Ast, error) {
	ce := new(exprpb.CheckedExpr)
	if err := proto.Unmarshal(data, ce); err != nil {
		return nil, err
	}
	return cel.CheckedExprToAst(ce), nil
}

// Source is a pack a composed pack takes policies from: its spec and the
// checked expressions generated for it (CheckedASTs; nil for none).
type Source struct {
	Spec    *spec.Pack
	Checked []byte
}

// ComposeLazyChecked compiles, lazily, a pack whose policies are taken
// from other packs -- a framework view selects the built-in policies mapped
// to its controls -- using the checked expressions of the packs they come
// from: an expression's checked form depends on its policy, not on the pack
// around it. A source whose checked file was generated from other text is
// compiled from source, as in LoadFSLazyChecked. Policy names must be
// unique across the sources a pack takes policies from.
func ComposeLazyChecked(sp *spec.Pack, sources []Source) (*Pack, error) {
	asts := map[string][]byte{}
	for _, s := range sources {
		if digest, n := protowire.ConsumeBytes(s.Checked); n > 0 && string(digest) == sourceDigest(s.Spec, "") {
			maps.Copy(asts, decodeASTs(s.Checked[n:]))
		}
	}
	return compileLazy(sp, asts)
}
