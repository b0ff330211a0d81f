package sourceflags

import "fmt"

// The Octave and call-events sources are wired once their packages are in
// this module.

func (f *Flags) octave(*Built, Env) error {
	return fmt.Errorf("--source %s: not in this build yet", Octave)
}

func (f *Flags) callEvents(*Built, Env) error {
	return fmt.Errorf("--source %s: not in this build yet", CallEvents)
}
