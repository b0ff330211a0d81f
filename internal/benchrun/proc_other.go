//go:build !unix

package benchrun

import "os/exec"

func setProcessGroup(*exec.Cmd) {}

func killGroup(cmd *exec.Cmd) error {
	if cmd.Process == nil {
		return nil
	}
	return cmd.Process.Kill()
}

// cpuTime is not measured on this platform.
func cpuTime() (user, sys int64) { return 0, 0 }
