package commands

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/warden-policy/warden/internal/analyze"
	"github.com/warden-policy/warden/internal/frameworks"
	"github.com/warden-policy/warden/packs/builtin"
	"github.com/warden-policy/warden/packs/engine"
	"github.com/warden-policy/warden/packs/home"
	"github.com/warden-policy/warden/packs/packtest"
	"github.com/warden-policy/warden/packs/spec"
)

func newCmdPacks(ios *IOStreams) *cobra.Command {
	cmd := &cobra.Command{Use: "packs", Short: "List, show and create packs"}
	cmd.AddCommand(newCmdPacksList(ios, nil), newCmdPacksShow(ios, nil), newCmdPacksNew(ios, nil),
		newCmdPacksAdd(ios, nil), newCmdPacksPublish(ios, nil), newCmdPacksRemove(ios, nil))
	return cmd
}

type packView struct {
	Name string `json:"name"`
	// Kind is "pack", or "framework" for a framework view (a built-in
	// pack of the policies mapped to a framework's controls).
	Kind       string   `json:"kind"`
	Version    string   `json:"version"`
	Source     string   `json:"source"`
	Policies   int      `json:"policies"`
	Frameworks []string `json:"frameworks"`
	Groups     []string `json:"groups,omitempty"`
	// Controls counts a framework view's controls.
	Controls *controlCount `json:"controls,omitempty"`
	Detail   []policyInfo  `json:"policyDetails,omitempty"`
}

type policyInfo struct {
	Name        string `json:"name"`
	Kind        string `json:"kind"`
	Severity    string `json:"severity"`
	Level       string `json:"enforcementLevel"`
	Description string `json:"description"`
	Framework   string `json:"framework,omitempty"`
}

func frameworkNames(p *engine.Pack) []string {
	seen := map[string]bool{}
	out := []string{} // JSON: [] rather than null
	for _, pol := range p.Policies {
		if f := pol.Framework; f != nil && f.Name != "" && !seen[f.Name] {
			seen[f.Name] = true
			out = append(out, f.Name)
		}
	}
	sort.Strings(out)
	return out
}

type packsListOptions struct {
	IO                 *IOStreams
	Home, View, Output string
}

func newCmdPacksList(ios *IOStreams, runF func(context.Context, *packsListOptions) error) *cobra.Command {
	opts := &packsListOptions{IO: ios}
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List the organization's packs (--view organization) or the built-in catalog (--view available)",
		Example: "  warden packs list --home ./policy\n" +
			"  warden packs list --view available",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := checkOutput(opts.Output, "human", "json"); err != nil {
				return err
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return packsListRun(opts)
		},
	}
	cmd.Flags().StringVar(&opts.Home, "home", "", "policy home (default: $WARDEN_HOME, else the built-in packs)")
	cmd.Flags().StringVar(&opts.View, "view", "organization", "organization (the home's packs) or available (the built-in catalog)")
	cmd.Flags().StringVarP(&opts.Output, "output", "o", "human", "output format: human, json")
	return cmd
}

func packsListRun(opts *packsListOptions) error {
	var views []packView
	switch opts.View {
	case "available":
		packs, err := builtin.Packs()
		if err != nil {
			return err
		}
		for _, p := range packs {
			views = append(views, packView{Name: p.Name, Kind: "pack", Version: p.Version, Source: "built-in", Policies: len(p.Policies), Frameworks: frameworkNames(p)})
		}
		for _, name := range builtin.Frameworks() {
			v, err := frameworkView(name)
			if err != nil {
				return err
			}
			views = append(views, v)
		}
	case "organization":
		h, err := loadHome(opts.Home, nil) // else the built-in packs, as groups list
		if err != nil {
			return err
		}
		if views, err = organizationPacks(h); err != nil {
			return err
		}
	default:
		return &FlagError{Err: fmt.Errorf("--view %q: want organization or available", opts.View)}
	}
	if opts.Output == "json" {
		return writeJSON(opts.IO.Out, nonNil(views))
	}
	tw := tabwriter.NewWriter(opts.IO.Out, 0, 4, 2, ' ', 0)
	if opts.View == "available" {
		// The catalog is the same for every home: no GROUPS column.
		fmt.Fprintln(tw, "NAME\tKIND\tVERSION\tPOLICIES\tFRAMEWORKS")
		for _, v := range views {
			fw := strings.Join(v.Frameworks, ", ")
			if c := v.Controls; c != nil {
				fw += fmt.Sprintf(" (%d of %d controls checked, %d not checkable from IaC)", c.Checked, c.Total, c.NotCheckable)
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\n", v.Name, v.Kind, v.Version, v.Policies, fw)
		}
		return tw.Flush()
	}
	fmt.Fprintln(tw, "NAME\tVERSION\tPOLICIES\tSOURCE\tGROUPS\tFRAMEWORKS")
	for _, v := range views {
		groups := strings.Join(v.Groups, ", ")
		if groups == "" {
			groups = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%s\t%s\n", v.Name, v.Version, v.Policies, v.Source, groups, strings.Join(v.Frameworks, ", "))
	}
	return tw.Flush()
}

// organizationPacks lists the packs a home uses in its groups and the ones
// it has published, each version once, with the groups that list it.
func organizationPacks(h *home.Home) ([]packView, error) {
	type key struct{ name, version string }
	byKey := map[key]*packView{}
	var order []key
	add := func(p *engine.Pack, source, group string) {
		k := key{p.Name, p.Version}
		v := byKey[k]
		if v == nil {
			v = &packView{Name: p.Name, Kind: packKind(p.Name, source), Version: p.Version, Source: source, Policies: len(p.Policies), Frameworks: frameworkNames(p)}
			byKey[k] = v
			order = append(order, k)
		}
		if group != "" && !slices.Contains(v.Groups, group) {
			v.Groups = append(v.Groups, group)
		}
	}
	for _, g := range h.Groups {
		for _, e := range g.Packs {
			add(e.Pack, e.Source, g.Name)
		}
	}
	if h.Dir != "" {
		avail, err := home.Packs(h.Dir)
		if err != nil {
			return nil, err
		}
		for _, a := range avail {
			if a.Source != "built-in" {
				add(a.Pack, a.Source, "")
			}
		}
	}
	out := make([]packView, 0, len(order))
	for _, k := range order {
		out = append(out, *byKey[k])
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

type packsShowOptions struct {
	IO                         *IOStreams
	Ref, Home, Backend, Output string
}

func newCmdPacksShow(ios *IOStreams, runF func(context.Context, *packsShowOptions) error) *cobra.Command {
	opts := &packsShowOptions{IO: ios}
	cmd := &cobra.Command{
		Use:     "show NAME[@VERSION]",
		Short:   "Show a pack: overview, policies, and the groups and stacks it applies to",
		Example: "  warden packs show aws-foundations --home ./policy --backend file://$HOME/pulumi-state",
		Args:    exactArgs(1, "packs show needs a pack name"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkOutput(opts.Output, "human", "json"); err != nil {
				return err
			}
			opts.Ref = args[0]
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return packsShowRun(cmd.Context(), opts)
		},
	}
	cmd.Flags().StringVar(&opts.Home, "home", "", "policy home whose groups and packs/ to use (default: $WARDEN_HOME, else the built-in packs)")
	cmd.Flags().StringVar(&opts.Backend, "backend", "", "a file:// backend folder: list the stacks there the pack applies to")
	cmd.Flags().StringVarP(&opts.Output, "output", "o", "human", "output format: human, json")
	return cmd
}

type entityView struct {
	Group   string   `json:"group"`
	Mode    string   `json:"mode"`
	Selects []string `json:"selects"`
	Level   string   `json:"enforcementLevel,omitempty"`
}

func packsShowRun(ctx context.Context, opts *packsShowOptions) error {
	ios, ref, backend, output := opts.IO, opts.Ref, opts.Backend, opts.Output
	name, ver, _ := strings.Cut(ref, "@")
	dir := home.Find(opts.Home, os.Getenv, "")
	avail, err := home.FindPack(dir, name, ver)
	if errors.Is(err, home.ErrNoPack) {
		return &InputError{Err: fmt.Errorf("no pack %s (warden packs list shows them)", ref)}
	}
	if err != nil {
		return err
	}
	found := avail.Pack
	publisher := "built-in (Warden)"
	if avail.Source != "built-in" {
		publisher = "organization"
	}
	v := struct {
		packView
		Publisher   string       `json:"publisher"`
		Description string       `json:"description"`
		Tags        []string     `json:"tags"`
		Entities    []entityView `json:"entitiesApplied"`
		Stacks      []string     `json:"stacks,omitempty"`
		// Controls are a framework view's controls, each with its policies.
		Controls []frameworks.Control `json:"frameworkControls,omitempty"`
	}{
		packView:  packView{Name: found.Name, Kind: packKind(found.Name, avail.Source), Version: found.Version, Source: avail.Source, Policies: len(found.Policies), Frameworks: frameworkNames(found)},
		Publisher: publisher, Description: found.Description, Tags: found.Tags, Entities: []entityView{},
	}
	if v.Kind == "framework" {
		r, err := frameworks.Map(found.Name)
		if err != nil {
			return err
		}
		v.Controls = r.Controls
		v.packView.Controls = countControls(r)
	}
	for _, pol := range found.Policies {
		pi := policyInfo{Name: pol.Name, Kind: string(pol.Kind), Severity: string(pol.Severity), Level: string(pol.Level), Description: pol.Description}
		if f := pol.Framework; f != nil {
			pi.Framework = strings.TrimSpace(f.Name + " " + f.Version + " " + f.Reference)
		}
		v.Detail = append(v.Detail, pi)
	}
	var h *home.Home
	if dir != "" && home.Exists(dir) {
		if h, err = home.Load(dir); err != nil {
			return err
		}
		for _, g := range h.Groups {
			for _, e := range g.Packs {
				if e.Pack.Name != found.Name || e.Pack.Version != found.Version {
					continue
				}
				ev := entityView{Group: g.Name, Mode: string(g.Mode), Level: string(e.Level)}
				switch {
				case g.Default:
					ev.Selects = []string{"every stack"}
				case g.Mode == home.Audit:
					for _, s := range g.Sources {
						ev.Selects = append(ev.Selects, s.Text)
					}
				}
				if !g.Default {
					for _, s := range g.Stacks {
						ev.Selects = append(ev.Selects, s.Text)
					}
					if g.Rule != nil {
						ev.Selects = append(ev.Selects, "tags: "+g.Rule.Text)
					}
				}
				v.Entities = append(v.Entities, ev)
			}
		}
	}
	if backend != "" {
		if h == nil {
			return &FlagError{Err: fmt.Errorf("--backend needs a policy home (--home) to know which groups apply")}
		}
		// Any backend pulumi login takes; a stack that cannot be read is
		// bad input here (packs show answers about all of them or none).
		var failure error
		targets, closeAll, err := auditTargets(ctx, []string{backend}, func(name string, err error) {
			failure = fmt.Errorf("%s: %w", name, err)
		})
		if err != nil {
			return err
		}
		defer closeAll()
		if failure != nil {
			return &InputError{Err: failure}
		}
		for _, t := range targets {
			st, err := t.read(ctx)
			if err != nil {
				return &InputError{Err: err}
			}
			ident := analyze.Identify(st, h.Org(st.Organization))
			res, err := h.Resolve(ident, home.Preventative)
			if err != nil {
				return err
			}
			if slices.ContainsFunc(res.Packs, func(r *home.Resolved) bool {
				return r.Pack.Name == found.Name && r.Pack.Version == found.Version
			}) {
				v.Stacks = append(v.Stacks, ident.Organization+"/"+ident.Project+"/"+ident.Name)
			}
		}
	}
	if output == "json" {
		return writeJSON(ios.Out, v)
	}
	w := ios.Out
	fmt.Fprintf(w, "%s@%s\n  %s\n  publisher: %s\n  source:    %s\n", v.Name, v.Version, v.Description, v.Publisher, v.Source)
	if len(v.Tags) > 0 {
		fmt.Fprintf(w, "  tags:      %s\n", strings.Join(v.Tags, ", "))
	}
	fmt.Fprintln(w, "\nPolicies:")
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "  POLICY\tKIND\tSEVERITY\tLEVEL\tFRAMEWORK\tDESCRIPTION")
	for _, p := range v.Detail {
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\t%s\n", p.Name, p.Kind, p.Severity, p.Level, p.Framework, p.Description)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if v.Controls != nil {
		if err := printControls(w, v.Controls, false); err != nil {
			return err
		}
	}
	if h != nil {
		fmt.Fprintln(w, "\nEntities applied:")
		if len(v.Entities) == 0 {
			fmt.Fprintln(w, "  no group of the home lists this pack (warden packs add adds it)")
		}
		for _, e := range v.Entities {
			level := ""
			if e.Level != "" {
				level = " at " + e.Level
			}
			fmt.Fprintf(w, "  group %s (%s)%s: %s\n", e.Group, e.Mode, level, strings.Join(e.Selects, ", "))
		}
	}
	if backend != "" {
		fmt.Fprintf(w, "\nStacks in %s it applies to:\n", backend)
		if len(v.Stacks) == 0 {
			fmt.Fprintln(w, "  none")
		}
		for _, s := range v.Stacks {
			fmt.Fprintf(w, "  %s\n", s)
		}
	}
	return nil
}

type packsNewOptions struct {
	IO        *IOStreams
	Name, Dir string
}

func newCmdPacksNew(ios *IOStreams, runF func(context.Context, *packsNewOptions) error) *cobra.Command {
	opts := &packsNewOptions{IO: ios}
	cmd := &cobra.Command{
		Use:     "new NAME",
		Short:   "Create a pack with one policy and its tests",
		Example: "  warden packs new acme-baseline --dir ./policy/packs",
		Args:    exactArgs(1, "packs new needs a pack name"),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Name = args[0]
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return packsNewRun(opts)
		},
	}
	cmd.Flags().StringVar(&opts.Dir, "dir", ".", "where to create the pack's directory")
	return cmd
}

func packsNewRun(opts *packsNewOptions) error {
	// "." and ".." match the engine's name rule but would write the pack
	// into the folder itself or its parent.
	if !spec.ValidName(opts.Name) {
		return &FlagError{Err: fmt.Errorf("pack name %q must match %s and not be all dots", opts.Name, spec.NameRE)}
	}
	target := filepath.Join(opts.Dir, opts.Name)
	if err := writeExamplePack(target, opts.Name); err != nil {
		return err
	}
	fmt.Fprintf(opts.IO.Out, "created %s\ntest it: warden test %s\n", target, target)
	return nil
}

const examplePack = `# A Warden pack: see https://github.com/warden-policy/warden/blob/main/packs/README.md
name: %s
version: 0.1.0
description: Our own policies.
enforcementLevel: advisory
policies:
  - name: buckets-have-owner
    description: Every bucket names the team that owns it.
    severity: medium
    resourceTypes: [aws:s3/bucket:Bucket, aws:s3/bucketV2:BucketV2]
    config:
      properties:
        tag: {type: string, default: owner}
    violation: '!(config.tag in resource.props.?tags.orValue({}))'
    message: "bucket {{ resource.name }} has no {{ config.tag }} tag"
`

const exampleTests = `apiVersion: warden/v1
kind: PackTest
cases:
  - name: untagged bucket
    resource:
      type: aws:s3/bucket:Bucket
      name: logs
      props: {bucket: acme-logs}
    expect:
      buckets-have-owner: {result: violation, message: "bucket logs has no owner tag"}
  - name: tagged bucket
    resource:
      type: aws:s3/bucketV2:BucketV2
      name: logs
      props: {bucket: acme-logs, tags: {owner: ops}}
    expect:
      buckets-have-owner: pass
  - name: owner unknown during preview
    resource:
      type: aws:s3/bucket:Bucket
      name: logs
      props: {tags: !unknown }
    expect:
      buckets-have-owner: cant-run
`

func writeExamplePack(dir, name string) error {
	if _, err := os.Stat(filepath.Join(dir, spec.PackFile)); err == nil {
		return &InputError{Err: fmt.Errorf("%s already has a %s", dir, spec.PackFile)}
	}
	if err := os.MkdirAll(filepath.Join(dir, "tests"), 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, spec.PackFile), fmt.Appendf(nil, examplePack, name), 0o644); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "tests", "buckets.yaml"), []byte(exampleTests), 0o644)
}

func exactArgs(n int, msg string) cobra.PositionalArgs {
	return func(_ *cobra.Command, args []string) error {
		if len(args) != n {
			return &FlagError{Err: fmt.Errorf("%s", msg)}
		}
		return nil
	}
}

// validateDir checks a pack directory or a policy home; warn gets what is
// valid but dangerous (a home that governs no stack).
func validateDir(dir string, all *spec.ErrorList, out, warn func(string)) error {
	if home.Exists(dir) {
		h, err := home.Load(dir)
		if list, ok := err.(spec.ErrorList); ok {
			all.Append(list)
		} else if err != nil {
			return err
		}
		// Every pack of the home, used by a group or not.
		files, _ := filepath.Glob(filepath.Join(dir, home.PacksDir, "*", spec.PackFile))
		more, _ := filepath.Glob(filepath.Join(dir, home.PacksDir, "*", "*", spec.PackFile))
		for _, f := range append(files, more...) {
			if err := validateDir(filepath.Dir(f), all, out, warn); err != nil {
				return err
			}
		}
		if h != nil {
			for _, w := range h.Ungoverned() {
				warn(w)
			}
			out(fmt.Sprintf("%s: policy home with %d groups, %d exceptions, ok", dir, len(h.Groups), len(h.Exceptions)))
		}
		return nil
	}
	p, err := engine.Load(dir)
	if list, ok := err.(spec.ErrorList); ok {
		all.Append(list)
	} else if err != nil {
		return err
	}
	if _, err := packtest.LoadSuites(dir); err != nil {
		list, ok := err.(spec.ErrorList)
		if !ok {
			return err
		}
		all.Append(list)
	}
	if p != nil {
		for _, w := range p.Warnings {
			warn(w.Error())
		}
		for _, w := range unknownControls(p) {
			warn(w)
		}
		out(fmt.Sprintf("%s: %d policies, ok", p, len(p.Policies)))
	}
	return nil
}
