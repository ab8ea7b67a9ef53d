// Package home loads a policy home: the directory handed to Pulumi as
// --policy-pack, holding warden.yaml (which packs run, at which levels, with
// which config) and packs/ (the organization's own packs, several versions
// side by side). Packs are found there or in the built-in catalog.
//
// A home that does not load is an error for the whole run: a broken home
// never lets a deployment through unguarded. With no home at all, Default
// gives the embedded one: every built-in pack at its own levels.
package home
