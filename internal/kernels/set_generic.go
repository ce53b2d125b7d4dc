package kernels

// platformSets returns the Sets that need platform support (none yet).
func platformSets() []*Set { return nil }
