package testworld

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"time"
)

// The calls below are the few the tests make against the backend: the
// catalog's locations and entities and the scaffolder's dry-run. They are
// test helpers, not idp's client of Backstage.

// Do sends an authenticated request to the backend (path starts with
// /api/...) with body as JSON when it is not nil, and decodes a 2xx answer
// into out when out is not nil. Any other status is an error holding the
// backend's answer.
func (b *Backstage) Do(ctx context.Context, method, path string, body, out any) error {
	var rd io.Reader
	if body != nil {
		data, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(data)
	}
	req, err := http.NewRequestWithContext(ctx, method, b.URL+path, rd)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+b.Token)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("backstage: %s %s: %s: %s", method, path, resp.Status, bytes.TrimSpace(data))
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("backstage: %s %s: decoding %q: %w", method, path, data, err)
	}
	return nil
}

// Entity is a catalog entity as the API returns it.
type Entity struct {
	APIVersion string         `json:"apiVersion"`
	Kind       string         `json:"kind"`
	Metadata   EntityMetadata `json:"metadata"`
	Spec       map[string]any `json:"spec"`
	Relations  []struct {
		Type      string `json:"type"`
		TargetRef string `json:"targetRef"`
	} `json:"relations"`
}

// EntityMetadata is the part of an entity's metadata tests look at.
type EntityMetadata struct {
	Name        string            `json:"name"`
	Namespace   string            `json:"namespace"`
	Title       string            `json:"title"`
	Annotations map[string]string `json:"annotations"`
	Labels      map[string]string `json:"labels"`
	Tags        []string          `json:"tags"`
}

// Register adds a catalog location (POST /api/catalog/locations): kind
// "file" with an absolute path, or "url" (see ServeDir). It returns the
// location's id; the catalog processes its entities shortly after.
func (b *Backstage) Register(ctx context.Context, kind, target string) (string, error) {
	var out struct {
		Location struct {
			ID string `json:"id"`
		} `json:"location"`
	}
	err := b.Do(ctx, http.MethodPost, "/api/catalog/locations", map[string]string{"type": kind, "target": target}, &out)
	return out.Location.ID, err
}

// Entities lists the catalog's entities matching filter (the API's filter
// syntax: "kind=component,spec.owner=team-a"; empty for all), following the
// by-query pagination.
func (b *Backstage) Entities(ctx context.Context, filter string) ([]Entity, error) {
	var all []Entity
	cursor := ""
	for {
		q := url.Values{"limit": {"200"}}
		if cursor != "" {
			q.Set("cursor", cursor)
		} else if filter != "" {
			q.Set("filter", filter)
		}
		var page struct {
			Items    []Entity `json:"items"`
			PageInfo struct {
				NextCursor string `json:"nextCursor"`
			} `json:"pageInfo"`
		}
		if err := b.Do(ctx, http.MethodGet, "/api/catalog/entities/by-query?"+q.Encode(), nil, &page); err != nil {
			return nil, err
		}
		all = append(all, page.Items...)
		if page.PageInfo.NextCursor == "" {
			return all, nil
		}
		cursor = page.PageInfo.NextCursor
	}
}

// WaitEntities polls Entities(filter) until at least n match, for entities of
// a location just registered.
func (b *Backstage) WaitEntities(ctx context.Context, filter string, n int) ([]Entity, error) {
	for {
		got, err := b.Entities(ctx, filter)
		if err == nil && len(got) >= n {
			return got, nil
		}
		select {
		case <-ctx.Done():
			return got, fmt.Errorf("backstage: %d of %d entities matching %q (%v): %w", len(got), n, filter, err, ctx.Err())
		case <-time.After(250 * time.Millisecond):
		}
	}
}

// DryRunFile is one file of a dry-run's input or output.
type DryRunFile struct {
	Path       string `json:"path"`
	Executable bool   `json:"executable,omitempty"`
	Content    []byte `json:"-"`
}

// DryRunResult is what the scaffolder's dry-run returns: the workspace's
// files after the steps, the template's output and the task log.
type DryRunResult struct {
	Files  []DryRunFile
	Output map[string]any
	Log    []string
}

// DryRun posts a template (the parsed Template entity: YAML decoded into
// maps), the form's values and the template folder's files to
// POST /api/scaffolder/v2/dry-run, as Backstage's template editor does.
func (b *Backstage) DryRun(ctx context.Context, template any, values map[string]any, files []DryRunFile) (DryRunResult, error) {
	type wireFile struct {
		Path          string `json:"path"`
		Executable    bool   `json:"executable,omitempty"`
		Base64Content string `json:"base64Content"`
	}
	in := make([]wireFile, 0, len(files))
	for _, f := range files {
		in = append(in, wireFile{Path: f.Path, Executable: f.Executable, Base64Content: base64.StdEncoding.EncodeToString(f.Content)})
	}
	if values == nil {
		values = map[string]any{}
	}
	var out struct {
		Log []struct {
			Body struct {
				Message string `json:"message"`
			} `json:"body"`
		} `json:"log"`
		DirectoryContents []wireFile     `json:"directoryContents"`
		Output            map[string]any `json:"output"`
	}
	body := map[string]any{"template": template, "values": values, "directoryContents": in}
	if err := b.Do(ctx, http.MethodPost, "/api/scaffolder/v2/dry-run", body, &out); err != nil {
		return DryRunResult{}, err
	}
	res := DryRunResult{Output: out.Output}
	for _, l := range out.Log {
		res.Log = append(res.Log, l.Body.Message)
	}
	for _, f := range out.DirectoryContents {
		data, err := base64.StdEncoding.DecodeString(f.Base64Content)
		if err != nil {
			return DryRunResult{}, fmt.Errorf("backstage: dry-run file %s: %w", f.Path, err)
		}
		res.Files = append(res.Files, DryRunFile{Path: f.Path, Executable: f.Executable, Content: data})
	}
	sort.Slice(res.Files, func(i, j int) bool { return res.Files[i].Path < res.Files[j].Path })
	return res, nil
}

// DirFiles reads every regular file under dir as dry-run input, with paths
// relative to dir in slash form, as the template editor uploads a folder.
func DirFiles(dir string) ([]DryRunFile, error) {
	var files []DryRunFile
	err := filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		if !info.Mode().IsRegular() {
			return nil
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(dir, path)
		if err != nil {
			return err
		}
		files = append(files, DryRunFile{Path: filepath.ToSlash(rel), Executable: info.Mode()&0o111 != 0, Content: data})
		return nil
	})
	return files, err
}
