package commands

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/warden-policy/warden/analyzer"
	"github.com/warden-policy/warden/internal/version"
	"github.com/warden-policy/warden/packs/home"
)

const homeManifest = `# Warden's policy home: which packs govern which stacks.
# Hand this directory to Pulumi: pulumi preview --policy-pack %s
organization: %s             # used when the engine does not say

groups:
  # Runs for every stack, during preview and up.
  - name: default
    mode: preventative
    default: true
    packs:
      - pack: aws-foundations          # built in: warden packs list
        enforcementLevel: advisory     # every policy of the pack; per-policy config below wins
        config:
          s3-bucket-no-public-acl: mandatory
      - pack: example                  # ./packs/example

  # Stricter for production stacks (by name, or by stack tags):
  #   warden groups new production --stack '*/prod' --pack aws-foundations --level mandatory
  # writes a group like this one.
  # - name: production
  #   mode: preventative
  #   stacks: ["*/prod"]
  #   stackRule: "tier=critical"
  #   packs:
  #     - {pack: aws-foundations, enforcementLevel: mandatory}

# Waivers: a reason is required; after "expires" the waiver no longer applies.
# exceptions:
#   public-site:
#     reason: The marketing site is public by design (SEC-123).
#     approvedBy: security-team
#     expires: 2027-03-01
#     match:
#       - policies: [s3-bucket-no-public-acl]
#         targets: ["urn:pulumi:prod::site::aws:s3/bucket:Bucket::www"]
`

const policyProject = `# Pulumi runs this policy home with Warden's language plugin.
# Do not add a version here: Pulumi would stamp it on every pack's violations.
runtime: warden
description: Warden policy home
`

type initOptions struct {
	IO     *IOStreams
	Dir    string
	Org    string
	Pulumi string // the pulumi CLI, for the plugin check
}

func newCmdInit(ios *IOStreams, runF func(context.Context, *initOptions) error) *cobra.Command {
	opts := &initOptions{IO: ios, Pulumi: "pulumi"}
	cmd := &cobra.Command{
		Use:     "init [DIR]",
		Short:   "Create a policy home: PulumiPolicy.yaml, warden.yaml and an example pack with tests",
		Example: "  warden init ./policy\n  pulumi preview --policy-pack ./policy",
		Args:    cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Dir = "."
			if len(args) == 1 {
				opts.Dir = args[0]
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return initRun(cmd.Context(), opts)
		},
	}
	cmd.Flags().StringVar(&opts.Org, "org", "organization", "the organization's name, used when the engine does not say")
	return cmd
}

func initRun(_ context.Context, opts *initOptions) error {
	abs, err := filepath.Abs(opts.Dir)
	if err != nil {
		return err
	}
	if home.Exists(abs) {
		return &InputError{Err: fmt.Errorf("%s already has a %s", opts.Dir, home.File)}
	}
	if err := os.MkdirAll(abs, 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(abs, analyzer.PolicyProjectFile), []byte(policyProject), 0o644); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(abs, home.File), fmt.Appendf(nil, homeManifest, abs, opts.Org), 0o644); err != nil {
		return err
	}
	if err := writeExamplePack(filepath.Join(abs, home.PacksDir, "example"), "example"); err != nil {
		return err
	}
	if err := ignoreLocalFiles(abs); err != nil {
		return err
	}
	if _, err := home.Load(abs); err != nil {
		return fmt.Errorf("the new home does not load: %w", err)
	}
	w := opts.IO.Out
	fmt.Fprintf(w, "Created a policy home in %s\n", abs)
	fmt.Fprintf(w, "  %s, %s, packs/example (test it: warden test %s)\n\n",
		analyzer.PolicyProjectFile, home.File, filepath.Join(abs, home.PacksDir, "example"))
	switch ok, detail := pluginInstalled(opts.Pulumi); {
	case ok:
		fmt.Fprintf(w, "The pulumi CLI finds Warden's language plugin (%s).\n", detail)
	default:
		fmt.Fprintf(w, "The pulumi CLI does not find Warden's language plugin yet (%s): run\n  warden install\n", detail)
	}
	fmt.Fprintf(w, "\nThen, in any Pulumi project:\n  pulumi preview --policy-pack %s\n", abs)
	return nil
}

// ignored are what init keeps out of version control, each with why.
var ignored = []struct{ entry, why string }{
	{home.LockFile, "warden's edit lock: it holds nothing"},
	{home.StateDir + "/", "warden's findings ledger (findings.db) and its spool: local state, not policy"},
}

// ignoreLocalFiles keeps the home's local files (the edit lock, the
// default findings ledger) out of version control: it lists them in the
// home's .gitignore, creating the file or adding lines to one that is
// already there, once.
func ignoreLocalFiles(dir string) error {
	file := filepath.Join(dir, ".gitignore")
	data, err := os.ReadFile(file)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("reading %s: %w", file, err)
	}
	have := map[string]bool{}
	for _, line := range strings.Split(string(data), "\n") {
		have[strings.TrimPrefix(strings.TrimSpace(line), "/")] = true
	}
	changed := false
	for _, ig := range ignored {
		if have[ig.entry] || have[strings.TrimSuffix(ig.entry, "/")] {
			continue
		}
		if len(data) > 0 && !bytes.HasSuffix(data, []byte("\n")) {
			data = append(data, '\n')
		}
		data = append(data, "# "+ig.why+"\n"+ig.entry+"\n"...)
		changed = true
	}
	if !changed {
		return nil
	}
	if err := os.WriteFile(file, data, 0o644); err != nil {
		return fmt.Errorf("writing %s: %w", file, err)
	}
	return nil
}

// pluginInstalled asks the pulumi CLI whether a warden language plugin is
// installed.
func pluginInstalled(pulumi string) (bool, string) {
	out, err := exec.Command(pulumi, "plugin", "ls", "--json").Output()
	if err != nil {
		return false, "pulumi is not on PATH or failed: " + err.Error()
	}
	var plugins []struct {
		Name    string `json:"name"`
		Kind    string `json:"kind"`
		Version string `json:"version"`
	}
	if err := json.Unmarshal(bytes.TrimSpace(out), &plugins); err != nil {
		return false, "could not read pulumi plugin ls"
	}
	for _, p := range plugins {
		if p.Name == "warden" && p.Kind == "language" {
			return true, "language warden " + p.Version
		}
	}
	return false, "no language plugin named warden"
}

func newCmdInstall(ios *IOStreams) *cobra.Command {
	var pulumi string
	cmd := &cobra.Command{
		Use:   "install",
		Short: "Install this warden binary as the Pulumi language plugin for runtime: warden",
		Long: "Install runs `pulumi plugin install language warden VERSION --file $(which warden) --reinstall`,\n" +
			"the way the pulumi CLI finds the plugin without warnings.",
		Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			self, err := os.Executable()
			if err != nil {
				return err
			}
			cmd := exec.Command(pulumi, "plugin", "install", "language", "warden", version.String(), "--file", self, "--reinstall")
			cmd.Stdout, cmd.Stderr = ios.ErrOut, ios.ErrOut
			if err := cmd.Run(); err != nil {
				return &InputError{Err: fmt.Errorf("pulumi plugin install: %w", err)}
			}
			fmt.Fprintf(ios.Out, "installed %s as the pulumi language plugin warden %s\n", self, version.String())
			return nil
		},
	}
	cmd.Flags().StringVar(&pulumi, "pulumi", "pulumi", "the pulumi CLI to install into")
	return cmd
}
