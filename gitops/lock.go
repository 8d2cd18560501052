package gitops

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// fileLock is a cross-process lock on one repository: every idp process (and
// every Repo in one process) that changes the repository holds it, so two
// runs never write the same clone at once. It is an OS lock, not a lock file,
// so a killed process cannot leave it behind.
type fileLock struct{ f *os.File }

func lockPath(ctx context.Context, path string) (*fileLock, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, fmt.Errorf("gitops: opening lock %s: %w", path, err)
	}
	wait := 5 * time.Millisecond
	for {
		ok, err := tryLock(f)
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("gitops: locking %s: %w", path, err)
		}
		if ok {
			return &fileLock{f: f}, nil
		}
		select {
		case <-ctx.Done():
			f.Close()
			return nil, fmt.Errorf("gitops: waiting for another idp process to release %s: %w", path, ctx.Err())
		case <-time.After(wait):
		}
		if wait < 100*time.Millisecond {
			wait *= 2
		}
	}
}

func (l *fileLock) release() {
	unlock(l.f)
	l.f.Close()
}
