package templates

import (
	"bytes"
	"errors"
	"fmt"
	"maps"
	"path"
	"slices"
	"sort"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// maxEach bounds the iterations of one step's each.
const maxEach = 1000

// runSteps runs one step as Backstage's workflow runner does: skipped when
// its if is false; with each, once per item (if evaluated per item, with
// ${{ each.key }} and ${{ each.value }}) and every output a list of the
// iterations' values. A later step with the same id replaces the earlier
// one's outputs.
func (t *Template) runSteps(s *Step, label string, ctx, steps map[string]any, ws *workspace, plan *Plan, env Env) error {
	if s.Each == nil {
		run, err := stepEnabled(s.If, ctx)
		if err != nil {
			return fmt.Errorf("%s: if: %w", label, err)
		}
		if !run {
			return nil
		}
		out, err := t.runOnce(s, label, ctx, ws, plan, env)
		if err != nil {
			return err
		}
		if s.ID != "" {
			steps[s.ID] = map[string]any{"output": orEmpty(out)}
		}
		return nil
	}
	if s.If == false {
		return nil
	}
	items, err := eachItems(s.Each, ctx)
	if err != nil {
		return fmt.Errorf("%s: each: %w", label, err)
	}
	collected := map[string]any{}
	for _, it := range items {
		ictx := maps.Clone(ctx)
		ictx["each"] = map[string]any{"key": it.key, "value": it.value}
		run, err := stepEnabled(s.If, ictx)
		if err != nil {
			return fmt.Errorf("%s[%s]: if: %w", label, it.key, err)
		}
		if !run {
			continue
		}
		out, err := t.runOnce(s, fmt.Sprintf("%s[%s]", label, it.key), ictx, ws, plan, env)
		if err != nil {
			return err
		}
		for _, k := range slices.Sorted(maps.Keys(out)) {
			list, _ := collected[k].([]any)
			collected[k] = append(list, out[k])
		}
	}
	if s.ID != "" {
		steps[s.ID] = map[string]any{"output": collected}
	}
	return nil
}

func orEmpty(m map[string]any) map[string]any {
	if m == nil {
		return map[string]any{}
	}
	return m
}

type eachItem struct {
	key   string
	value any
}

// eachItems resolves each: a list (keys "0", "1", ...) or a mapping (its
// keys, in JavaScript's order for objects: integer keys first, then as
// written; idp sorts the rest, as its mappings carry no order).
func eachItems(each any, ctx map[string]any) ([]eachItem, error) {
	v := each
	if s, ok := each.(string); ok {
		r, ok, err := renderValue(s, ctx)
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, fmt.Errorf("%q cannot be resolved to a value", s)
		}
		v = r
	} else {
		r, _, err := renderAny(each, ctx)
		if err != nil {
			return nil, err
		}
		v = r
	}
	var out []eachItem
	switch t := v.(type) {
	case []any:
		for i, e := range t {
			out = append(out, eachItem{strconv.Itoa(i), e})
		}
	case map[string]any:
		for _, k := range jsKeyOrder(t) {
			out = append(out, eachItem{k, t[k]})
		}
	default:
		return nil, fmt.Errorf("must resolve to a list or a mapping, not %v", v)
	}
	if len(out) > maxEach {
		return nil, fmt.Errorf("%d items; idp runs a step at most %d times", len(out), maxEach)
	}
	return out, nil
}

func jsKeyOrder(m map[string]any) []string {
	keys := slices.Collect(maps.Keys(m))
	sort.SliceStable(keys, func(i, j int) bool {
		a, aerr := strconv.ParseUint(keys[i], 10, 32)
		b, berr := strconv.ParseUint(keys[j], 10, 32)
		switch {
		case aerr == nil && berr == nil:
			return a < b
		case aerr == nil:
			return true
		case berr == nil:
			return false
		}
		return keys[i] < keys[j]
	})
	return keys
}

func (t *Template) runOnce(s *Step, label string, ctx map[string]any, ws *workspace, plan *Plan, env Env) (map[string]any, error) {
	in, err := renderInput(s.Input, ctx)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", label, err)
	}
	def := actions[s.Action]
	for _, k := range slices.Sorted(maps.Keys(in)) {
		if why := def.ignored[k]; why != "" {
			plan.Notes = append(plan.Notes, fmt.Sprintf("%s: input %s not applied: %s", label, k, why))
		}
	}
	if def.skip != "" {
		plan.Notes = append(plan.Notes, fmt.Sprintf("%s skipped: %s", label, def.skip))
		return nil, nil
	}
	out, err := t.runStep(s, in, ws, plan, env)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", label, err)
	}
	return out, nil
}

func (t *Template) runStep(s *Step, raw map[string]any, ws *workspace, plan *Plan, env Env) (map[string]any, error) {
	in := input(raw)
	switch s.Action {
	case ActionFetchTemplate, ActionFetchPlain, ActionFetchTemplateFile, ActionFetchPlainFile:
		return nil, t.fetch(s.Action, in, ws)
	case ActionPublish, ActionPublishGitHub:
		return publish(s.Action, in, plan, env)
	case ActionApplication:
		return application(in, plan)
	case ActionDatabase:
		return database(in, plan)
	case ActionLog:
		msg, err := in.str("message", "")
		if err != nil {
			return nil, err
		}
		if msg != "" {
			plan.Notes = append(plan.Notes, "log: "+msg)
		}
		return nil, nil
	case ActionWait:
		return nil, waitNote(in, plan)
	case ActionRename:
		return nil, ws.rename(in)
	case ActionDelete:
		return nil, ws.delete(in)
	case ActionReaddir:
		return ws.readdir(in)
	case ActionCatalogWrite:
		return nil, ws.catalogWrite(in)
	}
	return nil, fmt.Errorf("unknown action %q", s.Action)
}

func (t *Template) fetch(action string, in input, ws *workspace) error {
	url, err := in.str("url", "")
	if err != nil {
		return err
	}
	root, dir, err := t.skeletonRoot(url)
	if err != nil {
		return fmt.Errorf("url: %w", err)
	}
	target, err := in.str("targetPath", "")
	if err != nil {
		return err
	}
	if target, err = CleanRelPath(strings.TrimPrefix(target, "./")); err != nil {
		return fmt.Errorf("targetPath: %w", err)
	}
	o := skeletonOptions{url: url, dir: dir, target: target, plain: action == ActionFetchPlain || action == ActionFetchPlainFile,
		file: action == ActionFetchPlainFile || action == ActionFetchTemplateFile}
	if o.file && target == "" {
		return errors.New("targetPath must name the file to write")
	}
	if !o.plain {
		if v, ok := in["values"]; ok {
			if o.values, ok = v.(map[string]any); !ok {
				return fmt.Errorf("input values must be a mapping, got %v", v)
			}
		}
		if o.copyWithoutTemplating, err = in.strings("copyWithoutTemplating"); err != nil {
			return err
		}
		more, err := in.strings("copyWithoutRender")
		if err != nil {
			return err
		}
		o.copyWithoutTemplating = append(o.copyWithoutTemplating, more...)
		switch ext := in["templateFileExtension"].(type) {
		case nil:
		case bool:
			if ext {
				o.templateExt = ".njk"
			}
		case string:
			o.templateExt = ext
			if !strings.HasPrefix(ext, ".") {
				o.templateExt = "." + ext
			}
		default:
			return fmt.Errorf("input templateFileExtension must be true or an extension, got %v", ext)
		}
		for _, b := range []struct {
			key string
			dst *bool
		}{{"cookiecutterCompat", &o.classic}, {"replace", &o.replace}, {"trimBlocks", &o.trimBlocks}, {"lstripBlocks", &o.lstrip}} {
			if *b.dst, err = in.boolean(b.key, false); err != nil {
				return err
			}
		}
	}
	if o.values == nil {
		o.values = map[string]any{}
	}
	return renderSkeleton(root, ws, o)
}

func waitNote(in input, plan *Plan) error {
	var total float64
	for unit, ms := range map[string]float64{"minutes": 60000, "seconds": 1000, "milliseconds": 1} {
		if v, ok := in[unit]; ok {
			f, isNum := toFloat(v)
			if !isNum || f < 0 {
				return fmt.Errorf("input %s must be a number of %s, got %v", unit, unit, v)
			}
			total += f * ms
		}
	}
	if total > 10*60000 {
		return fmt.Errorf("waits %v ms; Backstage's debug:wait allows at most 10 minutes", total)
	}
	plan.Notes = append(plan.Notes, fmt.Sprintf("debug:wait: a plan has nothing to wait for; %v ms not waited", total))
	return nil
}

// workspacePath checks a path an fs action names in the workspace.
func workspacePath(key, p string) (string, error) {
	clean, err := CleanRelPath(strings.TrimPrefix(p, "./"))
	if err != nil {
		return "", fmt.Errorf("%s: %w", key, err)
	}
	if clean == "" {
		return "", fmt.Errorf("%s: %q names the workspace itself", key, p)
	}
	return clean, nil
}

// rename is fs:rename: files: [{from, to, overwrite}], a file or a folder.
func (w *workspace) rename(in input) error {
	list, ok := in["files"].([]any)
	if !ok {
		return fmt.Errorf("input files must be a list of {from, to}, got %v", in["files"])
	}
	for i, item := range list {
		m, ok := item.(map[string]any)
		if !ok {
			return fmt.Errorf("files[%d] must be a mapping with from and to", i)
		}
		e := input(m)
		fromS, err := e.str("from", "")
		if err != nil {
			return err
		}
		toS, err := e.str("to", "")
		if err != nil {
			return err
		}
		if fromS == "" || toS == "" {
			return fmt.Errorf("files[%d]: from and to are both needed", i)
		}
		from, err := workspacePath(fmt.Sprintf("files[%d].from", i), fromS)
		if err != nil {
			return err
		}
		to, err := workspacePath(fmt.Sprintf("files[%d].to", i), toS)
		if err != nil {
			return err
		}
		overwrite, err := e.boolean("overwrite", false)
		if err != nil {
			return err
		}
		moved := map[string]File{}
		for p, f := range w.files {
			switch {
			case p == from:
				moved[to] = f
			case strings.HasPrefix(p, from+"/"):
				moved[to+strings.TrimPrefix(p, from)] = f
			}
		}
		if len(moved) == 0 {
			return fmt.Errorf("files[%d]: %s is not in the workspace", i, fromS)
		}
		for p := range moved {
			if _, exists := w.files[p]; exists && !overwrite {
				return fmt.Errorf("files[%d]: %s exists; set overwrite: true to replace it", i, p)
			}
		}
		for p := range w.files {
			if p == from || strings.HasPrefix(p, from+"/") {
				delete(w.files, p)
			}
		}
		for _, p := range slices.Sorted(maps.Keys(moved)) {
			f := moved[p]
			f.Path = p
			delete(w.files, p)
			if err := w.put(f, true); err != nil {
				return err
			}
		}
	}
	return nil
}

// delete is fs:delete: files is a list of globs (** for any folders).
func (w *workspace) delete(in input) error {
	globs, err := in.strings("files")
	if err != nil {
		return err
	}
	for _, g := range globs {
		if _, err := CleanRelPath(strings.TrimPrefix(strings.ReplaceAll(g, "*", "x"), "./")); err != nil {
			return fmt.Errorf("files: %w", err)
		}
		for p := range w.files {
			if matchAny([]string{g}, p) {
				delete(w.files, p)
			}
		}
	}
	return nil
}

// readdir is fs:readdir: what the listed folders of the workspace hold, as
// {name, path, fullPath} for files and folders.
func (w *workspace) readdir(in input) (map[string]any, error) {
	paths, err := in.strings("paths")
	if err != nil {
		return nil, err
	}
	recursive, err := in.boolean("recursive", false)
	if err != nil {
		return nil, err
	}
	files, folders := []any{}, []any{}
	for _, p := range paths {
		dir, err := CleanRelPath(strings.TrimPrefix(p, "./"))
		if err != nil {
			return nil, fmt.Errorf("paths: %w", err)
		}
		seenDirs := map[string]bool{}
		for _, fp := range slices.Sorted(maps.Keys(w.files)) {
			rel := fp
			if dir != "" {
				var ok bool
				if rel, ok = strings.CutPrefix(fp, dir+"/"); !ok {
					continue
				}
			}
			parts := strings.Split(rel, "/")
			for i := 1; i < len(parts); i++ {
				sub := strings.Join(parts[:i], "/")
				if seenDirs[sub] || (!recursive && i > 1) {
					continue
				}
				seenDirs[sub] = true
				folders = append(folders, entry(dir, sub))
			}
			if recursive || len(parts) == 1 {
				files = append(files, entry(dir, rel))
			}
		}
	}
	return map[string]any{"files": files, "folders": folders}, nil
}

func entry(dir, rel string) map[string]any {
	return map[string]any{"name": path.Base(rel), "path": path.Join(dir, rel), "fullPath": "/workspace/" + path.Join(dir, rel)}
}

// catalogWrite is catalog:write: the entity as YAML, at filePath
// (catalog-info.yaml by default).
func (w *workspace) catalogWrite(in input) error {
	fp, err := in.str("filePath", "catalog-info.yaml")
	if err != nil {
		return err
	}
	p, err := workspacePath("filePath", fp)
	if err != nil {
		return err
	}
	entity, ok := in["entity"].(map[string]any)
	if !ok {
		return fmt.Errorf("input entity must be a mapping, got %v", in["entity"])
	}
	var b bytes.Buffer
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(entity); err != nil {
		return fmt.Errorf("entity: %w", err)
	}
	if err := enc.Close(); err != nil {
		return err
	}
	return w.put(File{Path: p, Content: b.Bytes(), Mode: 0o644}, true)
}
