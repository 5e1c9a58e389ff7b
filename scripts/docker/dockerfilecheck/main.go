// dockerfilecheck runs BuildKit's Dockerfile lint (dockerfile2llb.DockerfileLint, what
// `docker build --check` runs) without a Docker engine: the Dockerfile is parsed and
// converted as for a build, every lint rule is applied, and any error or warning fails.
// It also requires each stage to start FROM a pinned image (a tag other than "latest",
// or a digest) or from an earlier stage.
package main

import (
	"context"
	"fmt"
	"os"
	"strings"

	"github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/client/llb/sourceresolver"
	"github.com/moby/buildkit/frontend/dockerfile/dockerfile2llb"
	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/buildkit/frontend/dockerfile/linter"
	"github.com/moby/buildkit/frontend/dockerfile/parser"
	digest "github.com/opencontainers/go-digest"
)

// offline answers every base-image lookup with an empty linux/amd64 image config, so
// the lint needs no registry (base images' own ENV/USER are then unknown to it).
type offline struct{}

func (offline) ResolveImageConfig(_ context.Context, ref string, _ sourceresolver.Opt) (string, digest.Digest, []byte, error) {
	return ref, "", []byte(`{"architecture":"amd64","os":"linux","config":{}}`), nil
}

func pinned(image string, stages map[string]bool) bool {
	if stages[strings.ToLower(image)] || strings.Contains(image, "@sha256:") {
		return true
	}
	name := image[strings.LastIndex(image, "/")+1:]
	tag := ""
	if i := strings.LastIndex(name, ":"); i >= 0 {
		tag = name[i+1:]
	}
	return tag != "" && tag != "latest"
}

func check(path string) []string {
	var problems []string
	data, err := os.ReadFile(path)
	if err != nil {
		return []string{err.Error()}
	}
	source := llb.NewSourceMap(nil, path, "Dockerfile", data)
	source.Definition = &llb.Definition{} // only read when the results are sent to a client
	lintResult, err := dockerfile2llb.DockerfileLint(context.Background(), data, dockerfile2llb.ConvertOpt{
		SourceMap:    source,
		MetaResolver: offline{},
	})
	if err != nil {
		return []string{fmt.Sprintf("lint: %v", err)}
	}
	if lintResult.Error != nil {
		problems = append(problems, fmt.Sprintf("build error: %s", lintResult.Error.Message))
	}
	for _, w := range lintResult.Warnings {
		line := int32(0)
		if w.Location != nil && len(w.Location.Ranges) > 0 {
			line = w.Location.Ranges[0].Start.Line
		}
		problems = append(problems, fmt.Sprintf("line %d: %s: %s", line, w.RuleName, w.Detail))
	}
	result, err := parser.Parse(strings.NewReader(string(data)))
	if err != nil {
		return []string{fmt.Sprintf("parse: %v", err)}
	}
	for _, w := range result.Warnings {
		problems = append(problems, fmt.Sprintf("parser warning: %s", w.Short))
	}
	// Rules already ran above; this parse only lists the stages.
	lint := linter.New(&linter.Config{SkipAll: true})
	stages, _, err := instructions.Parse(result.AST, lint)
	if err != nil {
		return append(problems, fmt.Sprintf("instructions: %v", err))
	}
	if len(stages) == 0 {
		problems = append(problems, "no FROM stage")
	}
	seen := map[string]bool{}
	for _, s := range stages {
		if !pinned(s.BaseName, seen) {
			problems = append(problems, fmt.Sprintf("stage %q: base image %q is not pinned", s.Name, s.BaseName))
		}
		if s.Name != "" {
			seen[strings.ToLower(s.Name)] = true
		}
	}
	return problems
}

func main() {
	failed := false
	for _, path := range os.Args[1:] {
		problems := check(path)
		for _, p := range problems {
			fmt.Printf("ERROR %s: %s\n", path, p)
		}
		if len(problems) > 0 {
			failed = true
		} else {
			fmt.Printf("OK %s\n", path)
		}
	}
	if failed {
		os.Exit(1)
	}
}
