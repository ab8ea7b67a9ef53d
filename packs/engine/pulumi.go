package engine

// Pulumi's special values reach policies as plain maps. Their shapes are
// defined here once, so that a resource reference or an asset reads the
// same whether it came over the wire to the plugin or out of a state file.

// ResourceRef is a resource reference: its URN and, when it has one, its
// ID ("" while unknown).
func ResourceRef(urn string, id string, hasID bool) map[string]any {
	m := map[string]any{"urn": urn}
	if hasID {
		m["id"] = id
	}
	return m
}

// AssetValue is an asset: its hash and whichever of text, path and URI
// defines it ("" for the others).
func AssetValue(hash, text, path, uri string) map[string]any {
	return map[string]any{"hash": hash, "text": text, "path": path, "uri": uri}
}

// ArchiveValue is an archive: its hash and whichever of path and URI
// defines it ("" for the others; an archive of assets has neither).
func ArchiveValue(hash, path, uri string) map[string]any {
	return map[string]any{"hash": hash, "path": path, "uri": uri}
}
