package engine

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"golang.org/x/text/language"
	"golang.org/x/text/message"
)

// configSchema is a policy's compiled JSON Schema.
type configSchema struct {
	raw    map[string]any
	schema *jsonschema.Schema
}

const schemaURL = "warden:config.json"

func compileSchema(raw map[string]any) (*configSchema, error) {
	doc := maps.Clone(raw)
	if _, ok := doc["type"]; !ok {
		doc["type"] = "object"
	}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	if err := c.AddResource(schemaURL, doc); err != nil {
		return nil, err
	}
	s, err := c.Compile(schemaURL)
	if err != nil {
		return nil, schemaError(err)
	}
	return &configSchema{raw: doc, schema: s}, nil
}

// schemaError shortens the compiler's messages: the schema's URL means
// nothing to a pack author.
func schemaError(err error) error {
	return fmt.Errorf("%s", strings.ReplaceAll(err.Error(), schemaURL, "schema"))
}

// printer formats schema errors. Built on first use: matching the language
// touches x/text's tables, 2 ms of every plugin start otherwise.
var printer = sync.OnceValue(func() *message.Printer { return message.NewPrinter(language.English) })

// validate checks props against the schema and returns one human message per
// problem: "at /path: what is wrong".
func (s *configSchema) validate(props map[string]any) []string {
	if s == nil {
		return nil
	}
	err := s.schema.Validate(props)
	if err == nil {
		return nil
	}
	ve, ok := err.(*jsonschema.ValidationError)
	if !ok {
		return []string{err.Error()}
	}
	var out []string
	var walk func(e *jsonschema.ValidationError)
	walk = func(e *jsonschema.ValidationError) {
		if len(e.Causes) == 0 {
			loc := "/" + strings.Join(e.InstanceLocation, "/")
			if loc == "/" {
				loc = "the config"
			}
			out = append(out, fmt.Sprintf("at %s: %s", loc, e.ErrorKind.LocalizedString(printer())))
			return
		}
		for _, c := range e.Causes {
			walk(c)
		}
	}
	walk(ve)
	slices.Sort(out)
	return slices.Compact(out)
}

// withDefaults returns props with every missing property that has a default
// in the schema filled in, recursing into nested objects that are present.
func withDefaults(schema, props map[string]any) map[string]any {
	out := maps.Clone(props)
	if out == nil {
		out = map[string]any{}
	}
	pschemas, _ := schema["properties"].(map[string]any)
	for name, ps := range pschemas {
		psm, ok := ps.(map[string]any)
		if !ok {
			continue
		}
		v, present := out[name]
		if !present {
			if d, ok := psm["default"]; ok {
				out[name] = deepCopy(d)
			}
			continue
		}
		if obj, ok := v.(map[string]any); ok {
			out[name] = withDefaults(psm, obj)
		}
	}
	return out
}

func deepCopy(v any) any {
	switch v := v.(type) {
	case Secret:
		return Secret{Value: deepCopy(v.Value)}
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, e := range v {
			out[k] = deepCopy(e)
		}
		return out
	case []any:
		out := make([]any, len(v))
		for i, e := range v {
			out[i] = deepCopy(e)
		}
		return out
	}
	return v
}
