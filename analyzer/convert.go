package analyzer

// Conversions between Pulumi's protocol types and the engine's. Each is
// small, pure and nil-safe; nothing else in the package touches pulumirpc
// messages field by field.

import (
	"fmt"
	"maps"
	"sort"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource/sig"
	"github.com/pulumi/pulumi/sdk/v3/go/property"
	"github.com/pulumi/pulumi/sdk/v3/go/propertyrpc"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/warden-policy/warden/packs/engine"
	"github.com/warden-policy/warden/packs/spec"
)

// Properties travel as structpb values with Pulumi's sentinels for secrets
// and unknowns. The common shapes (plain values, the unknown string, the
// secret wrapper) are decoded here, straight into engine values: Analyze
// sits on the path of every resource, and going through the SDK's property
// values first doubled the allocation per call. Every other signed struct
// (output values, resource references, assets, archives, byte strings) is
// decoded by the SDK's propertyrpc, so its rules stay the engine's. (It is
// the light package: the older resource/plugin marshalling pulls in the
// SDK's workspace and its start-up cost.)

// propsFromProto decodes wire properties into engine values.
func propsFromProto(s *structpb.Struct) (map[string]any, error) {
	out := make(map[string]any, len(s.GetFields()))
	for k, v := range s.GetFields() {
		if strings.HasPrefix(k, "__") {
			continue // internal keys (__defaults, __meta) are not properties
		}
		ev, err := fromProtoValue(v)
		if err != nil {
			return nil, fmt.Errorf("decoding properties: %s: %w", k, err)
		}
		out[k] = ev
	}
	return out, nil
}

func fromProtoValue(v *structpb.Value) (any, error) {
	switch k := v.GetKind().(type) {
	case nil, *structpb.Value_NullValue:
		return nil, nil
	case *structpb.Value_BoolValue:
		return k.BoolValue, nil
	case *structpb.Value_NumberValue:
		return k.NumberValue, nil
	case *structpb.Value_StringValue:
		if sig.IsUnknown(k.StringValue) {
			return engine.Unknown{}, nil
		}
		return k.StringValue, nil
	case *structpb.Value_ListValue:
		vals := k.ListValue.GetValues()
		arr := make([]any, len(vals))
		for i, e := range vals {
			ev, err := fromProtoValue(e)
			if err != nil {
				return nil, fmt.Errorf("[%d]: %w", i, err)
			}
			arr[i] = ev
		}
		return arr, nil
	case *structpb.Value_StructValue:
		return fromProtoStruct(k.StructValue)
	default:
		return nil, fmt.Errorf("unknown value kind %T", k)
	}
}

func fromProtoStruct(s *structpb.Struct) (any, error) {
	fields := s.GetFields()
	signature, signed := fields[sig.Key]
	if !signed {
		m := make(map[string]any, len(fields))
		for k, e := range fields {
			ev, err := fromProtoValue(e)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", k, err)
			}
			m[k] = ev
		}
		return m, nil
	}
	if signature.GetStringValue() == sig.Secret {
		value, ok := fields["value"]
		if !ok {
			return nil, fmt.Errorf("malformed secret: missing value")
		}
		inner, err := fromProtoValue(value)
		if err != nil {
			return nil, err
		}
		if _, already := inner.(engine.Secret); already {
			return inner, nil
		}
		return engine.Secret{Value: inner}, nil
	}
	v, err := propertyrpc.UnmarshalValue(structpb.NewStructValue(s))
	if err != nil {
		return nil, err
	}
	return fromPropertyValue(v), nil
}

// fromPropertyValue converts the SDK's decoding of a signed struct.
func fromPropertyValue(v property.Value) any {
	var out any
	switch {
	case v.IsComputed():
		out = engine.Unknown{}
	case v.IsNull():
		out = nil
	case v.IsBool():
		out = v.AsBool()
	case v.IsNumber():
		out = v.AsNumber()
	case v.IsString():
		out = v.AsString()
	case v.IsArray():
		arr := make([]any, 0, v.AsArray().Len())
		for _, e := range v.AsArray().All {
			arr = append(arr, fromPropertyValue(e))
		}
		out = arr
	case v.IsMap():
		m := make(map[string]any, v.AsMap().Len())
		for k, e := range v.AsMap().All {
			m[k] = fromPropertyValue(e)
		}
		out = m
	case v.IsResourceReference():
		ref := v.AsResourceReference()
		id, ok := ref.IDString()
		out = engine.ResourceRef(string(ref.URN), id, ok)
	case v.IsAsset():
		a := v.AsAsset()
		out = engine.AssetValue(a.Hash, a.Text, a.Path, a.URI)
	case v.IsArchive():
		a := v.AsArchive()
		out = engine.ArchiveValue(a.Hash, a.Path, a.URI)
	}
	if v.Secret() {
		return engine.Secret{Value: out}
	}
	return out
}

// propsToProto encodes engine values (remediated inputs) for the wire,
// keeping secrets and unknowns.
func propsToProto(m map[string]any) (*structpb.Struct, error) {
	pm := make(map[string]property.Value, len(m))
	for k, v := range m {
		pv, err := toPropertyValue(v)
		if err != nil {
			return nil, fmt.Errorf("property %s: %w", k, err)
		}
		pm[k] = pv
	}
	return propertyrpc.Marshal(property.NewMap(pm)), nil
}

func toPropertyValue(v any) (property.Value, error) {
	switch v := v.(type) {
	case nil:
		return property.New(property.Null), nil
	case bool:
		return property.New(v), nil
	case float64:
		return property.New(v), nil
	case int:
		return property.New(float64(v)), nil
	case int64:
		return property.New(float64(v)), nil
	case string:
		return property.New(v), nil
	case []any:
		arr := make([]property.Value, len(v))
		for i, e := range v {
			pv, err := toPropertyValue(e)
			if err != nil {
				return pv, err
			}
			arr[i] = pv
		}
		return property.New(arr), nil
	case map[string]any:
		m := make(map[string]property.Value, len(v))
		for k, e := range v {
			pv, err := toPropertyValue(e)
			if err != nil {
				return pv, err
			}
			m[k] = pv
		}
		return property.New(m), nil
	case engine.Unknown:
		return property.New(property.Computed), nil
	case engine.Secret:
		inner, err := toPropertyValue(v.Value)
		if err != nil {
			return inner, err
		}
		return inner.WithSecret(true), nil
	}
	return property.Value{}, fmt.Errorf("unsupported value of type %T", v)
}

// resourceFromRequest converts an Analyze or Remediate request whose
// properties decode gives.
func resourceFromRequest(req *pulumirpc.AnalyzeRequest, decode func() (map[string]any, error)) (*engine.Resource, error) {
	props, err := decode()
	if err != nil {
		return nil, err
	}
	prov, err := providerFromProto(req.GetProvider())
	if err != nil {
		return nil, err
	}
	opts := optionsFromProto(req.GetOptions())
	return &engine.Resource{
		URN: req.GetUrn(), Type: req.GetType(), Name: req.GetName(), Props: props,
		Options: opts, Provider: prov, Parent: opts.Parent,
	}, nil
}

func providerFromProto(p *pulumirpc.AnalyzerProviderResource) (*engine.Provider, error) {
	if p == nil {
		return nil, nil
	}
	props, err := propsFromProto(p.GetProperties())
	if err != nil {
		return nil, fmt.Errorf("provider %s: %w", p.GetUrn(), err)
	}
	return &engine.Provider{Name: p.GetName(), Type: p.GetType(), URN: p.GetUrn(), Props: props}, nil
}

func optionsFromProto(o *pulumirpc.AnalyzerResourceOptions) engine.Options {
	if o == nil {
		return engine.Options{}
	}
	out := engine.Options{
		Protect: o.GetProtect(), IgnoreChanges: o.GetIgnoreChanges(), DeleteBeforeReplace: o.GetDeleteBeforeReplace(),
		Aliases: o.GetAliases(), AdditionalSecretOutputs: o.GetAdditionalSecretOutputs(), Parent: o.GetParent(),
	}
	if ct := o.GetCustomTimeouts(); ct != nil {
		out.CustomTimeouts = engine.CustomTimeouts{Create: seconds(ct.GetCreate()), Update: seconds(ct.GetUpdate()), Delete: seconds(ct.GetDelete())}
	}
	return out
}

func seconds(f float64) string {
	if f == 0 {
		return ""
	}
	return fmt.Sprintf("%gs", f)
}

func levelToProto(l spec.Level) pulumirpc.EnforcementLevel {
	switch l {
	case spec.Mandatory:
		return pulumirpc.EnforcementLevel_MANDATORY
	case spec.Remediate:
		return pulumirpc.EnforcementLevel_REMEDIATE
	case spec.Disabled:
		return pulumirpc.EnforcementLevel_DISABLED
	}
	return pulumirpc.EnforcementLevel_ADVISORY
}

func levelFromProto(l pulumirpc.EnforcementLevel) spec.Level {
	switch l {
	case pulumirpc.EnforcementLevel_MANDATORY:
		return spec.Mandatory
	case pulumirpc.EnforcementLevel_REMEDIATE:
		return spec.Remediate
	case pulumirpc.EnforcementLevel_DISABLED:
		return spec.Disabled
	}
	return spec.Advisory
}

func severityToProto(s spec.Severity) pulumirpc.PolicySeverity {
	switch s {
	case spec.Low:
		return pulumirpc.PolicySeverity_POLICY_SEVERITY_LOW
	case spec.Medium:
		return pulumirpc.PolicySeverity_POLICY_SEVERITY_MEDIUM
	case spec.High:
		return pulumirpc.PolicySeverity_POLICY_SEVERITY_HIGH
	case spec.Critical:
		return pulumirpc.PolicySeverity_POLICY_SEVERITY_CRITICAL
	}
	return pulumirpc.PolicySeverity_POLICY_SEVERITY_UNSPECIFIED
}

// policyInfo describes one policy to the engine under its exposed name.
func policyInfo(name string, pol *engine.Policy, level spec.Level) (*pulumirpc.PolicyInfo, error) {
	info := &pulumirpc.PolicyInfo{
		Name: name, DisplayName: pol.Name, Description: pol.Description,
		EnforcementLevel: levelToProto(level), Severity: severityToProto(pol.Severity),
		PolicyType: pulumirpc.PolicyType_POLICY_TYPE_RESOURCE, Tags: pol.Tags,
		RemediationSteps: pol.RemediationSteps, Url: pol.URL,
	}
	if pol.Kind == spec.StackKind {
		info.PolicyType = pulumirpc.PolicyType_POLICY_TYPE_STACK
	}
	if f := pol.Framework; f != nil {
		info.Framework = &pulumirpc.PolicyComplianceFramework{Name: f.Name, Version: f.Version, Reference: f.Reference, Specification: f.Specification}
	}
	if s := advertisedSchema(pol); s != nil {
		schema, err := configSchemaToProto(s)
		if err != nil {
			return nil, fmt.Errorf("policy %s: %w", name, err)
		}
		info.ConfigSchema = schema
	}
	return info, nil
}

// advertisedSchema is the config schema the engine is told a policy takes:
// its own, and for a resource policy the name-scope keys every one accepts
// (includeFor, excludeFor, ...: engine.ScopeSchema), so a Compliance-Ready
// --policy-pack-config is documented where the engine shows config. The
// policy's own properties win a clash.
func advertisedSchema(pol *engine.Policy) map[string]any {
	if pol.Kind == spec.StackKind {
		return pol.ConfigSchema
	}
	out := maps.Clone(pol.ConfigSchema)
	if out == nil {
		out = map[string]any{}
	}
	props := engine.ScopeSchema()
	if own, ok := out["properties"].(map[string]any); ok {
		maps.Copy(props, own)
	}
	out["properties"] = props
	return out
}

// configSchemaToProto splits a JSON Schema object into the engine's form:
// the properties and the required list.
func configSchemaToProto(s map[string]any) (*pulumirpc.PolicyConfigSchema, error) {
	out := &pulumirpc.PolicyConfigSchema{}
	if props, ok := s["properties"].(map[string]any); ok {
		st, err := structpb.NewStruct(props)
		if err != nil {
			return nil, fmt.Errorf("config schema: %w", err)
		}
		out.Properties = st
	}
	if req, ok := s["required"].([]any); ok {
		for _, r := range req {
			if name, ok := r.(string); ok {
				out.Required = append(out.Required, name)
			}
		}
		sort.Strings(out.Required)
	}
	return out, nil
}

// configFromProto converts the reconciled config of Configure.
func configFromProto(m map[string]*pulumirpc.PolicyConfig) map[string]engine.PolicyConfig {
	out := make(map[string]engine.PolicyConfig, len(m))
	for k, v := range m {
		out[k] = engine.PolicyConfig{Level: levelFromProto(v.GetEnforcementLevel()), Properties: v.GetProperties().AsMap()}
	}
	return out
}

// stackFromProto converts ConfigureStack. Config values of secret keys are
// secrets.
func stackFromProto(req *pulumirpc.AnalyzerStackConfigureRequest) engine.Stack {
	secret := make(map[string]bool, len(req.GetConfigSecretKeys()))
	for _, k := range req.GetConfigSecretKeys() {
		secret[k] = true
	}
	cfg := make(map[string]any, len(req.GetConfig()))
	for k, v := range req.GetConfig() {
		if secret[k] {
			cfg[k] = engine.Secret{Value: v}
		} else {
			cfg[k] = v
		}
	}
	return engine.Stack{
		Name: req.GetStack(), Project: req.GetProject(), Organization: req.GetOrganization(),
		Tags: req.GetTags(), Config: cfg, DryRun: req.GetDryRun(),
	}
}
