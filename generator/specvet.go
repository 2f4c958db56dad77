package generator

// CheckSpec runs ogen, in process, on spec (named file in messages) as
// svcgen new and regen would, and returns its error: a *SpecError with the
// line at fault, or nil when ogen generates a server from it.
func CheckSpec(file string, spec []byte) error {
	_, err := runOgen(file, spec, false, nil)
	return err
}
