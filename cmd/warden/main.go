// Command warden tests policy packs, analyzes Pulumi state and explains
// which policies apply. See README.md.
package main

import (
	"os"

	"github.com/warden-policy/warden/cmd/warden/commands"
)

func main() {
	os.Exit(commands.Main(os.Args[1:], commands.System()))
}
