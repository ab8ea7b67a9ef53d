package commands

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/warden-policy/warden/packs/builtin"
	"github.com/warden-policy/warden/packs/engine"
	"github.com/warden-policy/warden/packs/home"
	"github.com/warden-policy/warden/packs/packtest"
	"github.com/warden-policy/warden/packs/spec"
)

func newCmdPacks(ios *IOStreams) *cobra.Command {
	cmd := &cobra.Command{Use: "packs", Short: "List, show and create packs"}
	cmd.AddCommand(newCmdPacksList(ios), newCmdPacksShow(ios), newCmdPacksNew(ios))
	return cmd
}

type packView struct {
	Name       string       `json:"name"`
	Version    string       `json:"version"`
	Source     string       `json:"source"`
	Policies   int          `json:"policies"`
	Frameworks []string     `json:"frameworks"`
	Detail     []policyInfo `json:"policyDetails,omitempty"`
}

type policyInfo struct {
	Name        string `json:"name"`
	Kind        string `json:"kind"`
	Severity    string `json:"severity"`
	Level       string `json:"enforcementLevel"`
	Description string `json:"description"`
	Framework   string `json:"framework,omitempty"`
}

// allPacks lists the built-in packs and, with a home, the home's own packs
// (every version in packs/).
func allPacks(homeDir string) ([]*engine.Pack, map[*engine.Pack]string, error) {
	src := map[*engine.Pack]string{}
	packs, err := builtin.Packs()
	if err != nil {
		return nil, nil, err
	}
	for _, p := range packs {
		src[p] = "built-in"
	}
	if homeDir == "" {
		homeDir = os.Getenv("WARDEN_HOME")
	}
	if homeDir != "" {
		files, _ := filepath.Glob(filepath.Join(homeDir, home.PacksDir, "*", spec.PackFile))
		more, _ := filepath.Glob(filepath.Join(homeDir, home.PacksDir, "*", "*", spec.PackFile))
		files = append(files, more...)
		sort.Strings(files)
		for _, f := range files {
			p, err := engine.Load(filepath.Dir(f))
			if err != nil {
				return nil, nil, err
			}
			packs = append(packs, p)
			src[p] = filepath.Dir(f)
		}
	}
	return packs, src, nil
}

func frameworks(p *engine.Pack) []string {
	seen := map[string]bool{}
	var out []string
	for _, pol := range p.Policies {
		if f := pol.Framework; f != nil && f.Name != "" && !seen[f.Name] {
			seen[f.Name] = true
			out = append(out, f.Name)
		}
	}
	sort.Strings(out)
	return out
}

func newCmdPacksList(ios *IOStreams) *cobra.Command {
	var homeDir, output string
	cmd := &cobra.Command{
		Use:     "list",
		Short:   "List the built-in packs and the home's own",
		Example: "  warden packs list --home ./policy",
		Args:    cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			if err := checkOutput(output, "human", "json"); err != nil {
				return err
			}
			packs, src, err := allPacks(homeDir)
			if err != nil {
				return err
			}
			var views []packView
			for _, p := range packs {
				views = append(views, packView{Name: p.Name, Version: p.Version, Source: src[p], Policies: len(p.Policies), Frameworks: frameworks(p)})
			}
			if output == "json" {
				return writeJSON(ios.Out, views)
			}
			tw := tabwriter.NewWriter(ios.Out, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "NAME\tVERSION\tPOLICIES\tSOURCE\tFRAMEWORKS")
			for _, v := range views {
				fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%s\n", v.Name, v.Version, v.Policies, v.Source, strings.Join(v.Frameworks, ", "))
			}
			return tw.Flush()
		},
	}
	cmd.Flags().StringVar(&homeDir, "home", "", "policy home whose packs/ to list too")
	cmd.Flags().StringVarP(&output, "output", "o", "human", "output format: human, json")
	return cmd
}

func newCmdPacksShow(ios *IOStreams) *cobra.Command {
	var homeDir, output string
	cmd := &cobra.Command{
		Use:     "show NAME[@VERSION]",
		Short:   "Show a pack's policies: severity, level, description, framework",
		Example: "  warden packs show aws-foundations",
		Args:    exactArgs(1, "packs show needs a pack name"),
		RunE: func(_ *cobra.Command, args []string) error {
			if err := checkOutput(output, "human", "json"); err != nil {
				return err
			}
			name, ver, _ := strings.Cut(args[0], "@")
			packs, src, err := allPacks(homeDir)
			if err != nil {
				return err
			}
			var found *engine.Pack
			for _, p := range packs {
				if p.Name == name && (ver == "" || p.Version == ver) && (found == nil || p.Version > found.Version) {
					found = p
				}
			}
			if found == nil {
				return &InputError{Err: fmt.Errorf("no pack %s (warden packs list shows them)", args[0])}
			}
			v := packView{Name: found.Name, Version: found.Version, Source: src[found], Policies: len(found.Policies), Frameworks: frameworks(found)}
			for _, pol := range found.Policies {
				pi := policyInfo{Name: pol.Name, Kind: string(pol.Kind), Severity: string(pol.Severity), Level: string(pol.Level), Description: pol.Description}
				if f := pol.Framework; f != nil {
					pi.Framework = strings.TrimSpace(f.Name + " " + f.Version + " " + f.Reference)
				}
				v.Detail = append(v.Detail, pi)
			}
			if output == "json" {
				return writeJSON(ios.Out, v)
			}
			fmt.Fprintf(ios.Out, "%s@%s (%s): %s\n\n", v.Name, v.Version, v.Source, found.Description)
			tw := tabwriter.NewWriter(ios.Out, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "POLICY\tKIND\tSEVERITY\tLEVEL\tFRAMEWORK\tDESCRIPTION")
			for _, p := range v.Detail {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", p.Name, p.Kind, p.Severity, p.Level, p.Framework, p.Description)
			}
			return tw.Flush()
		},
	}
	cmd.Flags().StringVar(&homeDir, "home", "", "policy home whose packs/ to search too")
	cmd.Flags().StringVarP(&output, "output", "o", "human", "output format: human, json")
	return cmd
}

func newCmdPacksNew(ios *IOStreams) *cobra.Command {
	var dir string
	cmd := &cobra.Command{
		Use:     "new NAME",
		Short:   "Create a pack with one policy and its tests",
		Example: "  warden packs new acme-baseline --dir ./policy/packs",
		Args:    exactArgs(1, "packs new needs a pack name"),
		RunE: func(_ *cobra.Command, args []string) error {
			name := args[0]
			if !spec.NameRE.MatchString(name) {
				return &FlagError{Err: fmt.Errorf("pack name %q must match %s", name, spec.NameRE)}
			}
			target := filepath.Join(dir, name)
			if err := writeExamplePack(target, name); err != nil {
				return err
			}
			fmt.Fprintf(ios.Out, "created %s\ntest it: warden test %s\n", target, target)
			return nil
		},
	}
	cmd.Flags().StringVar(&dir, "dir", ".", "where to create the pack's directory")
	return cmd
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

// validateDir checks a pack directory or a policy home.
func validateDir(dir string, all *spec.ErrorList, out func(string)) error {
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
			if err := validateDir(filepath.Dir(f), all, out); err != nil {
				return err
			}
		}
		if h != nil {
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
		out(fmt.Sprintf("%s: %d policies, ok", p, len(p.Policies)))
	}
	return nil
}
