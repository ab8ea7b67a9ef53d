package bench

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"time"
)

// The real-CLI comparison: `pulumi preview` and `pulumi up` of a YAML
// program on the end-to-end tests' stand-in AWS provider (e2e/fakeaws),
// with each analyzer as its policy pack, so that what a policy pack adds
// to a deployment is measured whole: process start, every Analyze the
// engine makes, AnalyzeStack, the findings ledger.

// Program is a Pulumi YAML program of about n resources in groups of ten,
// related as in real stacks: a bucket with the public access block that
// points at its id, a security group, a database (with a secret password),
// an IAM policy, an instance, a volume, a key, a table and an address.
// Every mandatory policy of the built-in catalog passes (the update must
// complete for AnalyzeStack to run); advisory ones are violated in half
// the groups.
func Program(n int) []byte {
	var b bytes.Buffer
	b.WriteString("name: bench\nruntime: yaml\ndescription: The real-CLI benchmark's program.\nresources:\n")
	for g := 0; g*10 < n; g++ {
		name := fmt.Sprintf("g%05d", g)
		weak := g%2 == 1
		fmt.Fprintf(&b, `  bucket%[1]s:
    type: aws:s3/bucket:Bucket
    properties:
      bucket: acme-%[1]s
      acl: private
      tags: {owner: team-a}
  block%[1]s:
    type: aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock
    properties:
      bucket: ${bucket%[1]s.id}
      blockPublicAcls: true
      blockPublicPolicy: true
      ignorePublicAcls: true
      restrictPublicBuckets: true
  sg%[1]s:
    type: aws:ec2/securityGroup:SecurityGroup
    properties:
      name: sg-%[1]s
      description: web
      ingress:
        - {protocol: tcp, fromPort: 443, toPort: 443, cidrBlocks: ["10.0.0.0/8"], description: https}
        - {protocol: tcp, fromPort: 22, toPort: 22, cidrBlocks: ["10.1.0.0/16"], description: ssh}
  db%[1]s:
    type: aws:rds/instance:Instance
    properties:
      engine: postgres
      instanceClass: db.t3.micro
      username: app
      password:
        fn::secret: pw-%[1]s-s3cret
      storageEncrypted: %[2]t
  policy%[1]s:
    type: aws:iam/policy:Policy
    properties:
      policy: '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::acme-%[1]s/*"}]}'
  vm%[1]s:
    type: aws:ec2/instance:Instance
    properties:
      ami: ami-0abcdef1234567890
      instanceType: t3.micro
      associatePublicIpAddress: false
      metadataOptions: {httpTokens: %[3]s}
  disk%[1]s:
    type: aws:ebs/volume:Volume
    properties:
      availabilityZone: us-east-1a
      size: 100
      encrypted: %[2]t
  key%[1]s:
    type: aws:kms/key:Key
    properties:
      description: key %[1]s
      enableKeyRotation: %[2]t
  table%[1]s:
    type: aws:dynamodb/table:Table
    properties:
      hashKey: id
      billingMode: PAY_PER_REQUEST
      pointInTimeRecovery: {enabled: %[2]t}
  ip%[1]s:
    type: aws:ec2/eip:Eip
    properties:
      domain: vpc
`, name, !weak, map[bool]string{false: "required", true: "optional"}[weak])
	}
	return b.Bytes()
}

// CLI runs the real Pulumi CLI in a hermetic environment: its own
// PULUMI_HOME with the stand-in provider installed, a file backend, no
// downloads or update checks.
type CLI struct {
	Pulumi string // the directory holding pulumi and pulumi-language-yaml
	Dir    string // scratch: PULUMI_HOME, the backend, the projects
	env    []string
}

// NewCLI prepares dir and installs provider (the fakeaws binary) as the
// aws resource plugin.
func NewCLI(pulumi, provider, dir string) (*CLI, error) {
	c := &CLI{Pulumi: pulumi, Dir: dir}
	backend := filepath.Join(dir, "backend")
	if err := os.MkdirAll(backend, 0o755); err != nil {
		return nil, err
	}
	c.env = []string{
		"PATH=" + pulumi + string(os.PathListSeparator) + os.Getenv("PATH"),
		"HOME=" + os.Getenv("HOME"),
		"PULUMI_HOME=" + filepath.Join(dir, "pulumi-home"),
		"XDG_STATE_HOME=" + filepath.Join(dir, "state"),
		"PULUMI_BACKEND_URL=file://" + backend,
		"PULUMI_CONFIG_PASSPHRASE=bench",
		"PULUMI_SKIP_UPDATE_CHECK=true",
		"PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION=true",
		"PULUMI_IGNORE_AMBIENT_PLUGINS=true",
		"PULUMI_SKIP_CONFIRMATIONS=true",
		"NO_COLOR=1",
	}
	if _, err := c.run(dir, nil, "plugin", "install", "resource", "aws", "7.0.0", "--file", provider); err != nil {
		return nil, err
	}
	return c, nil
}

// Project writes the program of about n resources into its own folder,
// creates its stack and deploys it once without a policy pack: the timed
// runs then preview and update a deployed stack (nothing changes, and
// the engine still analyzes every resource and the stack).
func (c *CLI) Project(n int) (string, error) {
	dir := filepath.Join(c.Dir, fmt.Sprintf("bench-%d", n))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	if err := os.WriteFile(filepath.Join(dir, "Pulumi.yaml"), Program(n), 0o644); err != nil {
		return "", err
	}
	// One backend holds every size's stack: each is named by its size.
	if _, err := c.run(dir, nil, "stack", "init", fmt.Sprintf("size%d", n)); err != nil {
		return "", err
	}
	if _, err := c.run(dir, nil, "up", "--yes", "--skip-preview"); err != nil {
		return "", err
	}
	return dir, nil
}

// Time runs one pulumi command in project with the policy pack (none when
// pack is ""), env added to the CLI's, and says how long it took and what
// it printed.
func (c *CLI) Time(project, pack string, env []string, args ...string) (time.Duration, []byte, error) {
	if pack != "" {
		args = append(args, "--policy-pack", pack)
	}
	begin := time.Now()
	out, err := c.run(project, env, args...)
	return time.Since(begin), out, err
}

// recorded matches the analyzer's debug line saying how long recording
// the run in the findings ledger took (WARDEN_LOG_LEVEL=debug).
var recorded = regexp.MustCompile(`recorded the run: .*took=([0-9.]+[a-zµ]+)`)

// Recorded is how long the findings ledger took to record the run, read
// from the output of a command whose Warden logged at debug level; false
// when it did not say.
func Recorded(out []byte) (time.Duration, bool) {
	m := recorded.FindSubmatch(out)
	if m == nil {
		return 0, false
	}
	d, err := time.ParseDuration(string(m[1]))
	return d, err == nil
}

func (c *CLI) run(dir string, env []string, args ...string) ([]byte, error) {
	cmd := exec.Command(filepath.Join(c.Pulumi, "pulumi"), args...)
	cmd.Dir = dir
	cmd.Env = append(append([]string(nil), c.env...), env...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		tail := out
		if len(tail) > 4000 {
			tail = tail[len(tail)-4000:]
		}
		return out, fmt.Errorf("pulumi %s: %v\n%s", strings.Join(args, " "), err, tail)
	}
	return out, nil
}
