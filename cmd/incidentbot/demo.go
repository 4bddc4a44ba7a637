package main

import (
	"fmt"
	"io"
)

// cmdDemo is filled in once the fake Slack lands.
func cmdDemo(args []string, stdout, stderr io.Writer) int {
	fmt.Fprintln(stderr, "demo: not yet")
	return 1
}
