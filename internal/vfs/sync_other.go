//go:build !linux

package vfs

// Sync flushes the file with fsync(2).
func (f osFile) Sync() error { return f.File.Sync() }
