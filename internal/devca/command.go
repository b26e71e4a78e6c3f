package devca

import (
	"fmt"
	"io"
)

// Main runs the `devca` command with the arguments that follow the
// subcommand name and returns the process exit code.
func Main(args []string, stdout, stderr io.Writer) int {
	fmt.Fprintln(stderr, "devca: development CA is not built yet")
	return 1
}
