// crdcheck validates prometheus-operator custom resources (ServiceMonitor, PrometheusRule)
// offline: each YAML document of the given files is decoded strictly into the operator's
// own Go types, so an unknown or misspelt field, or a value of the wrong type, fails.
// Documents of other kinds are skipped (kubernetes-validate checks the built-in kinds).
package main

import (
	"bytes"
	"fmt"
	"os"
	"strings"

	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	"sigs.k8s.io/yaml"
)

type header struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Metadata   struct {
		Name string `json:"name"`
	} `json:"metadata"`
}

func check(doc []byte) (string, error) {
	var h header
	if err := yaml.Unmarshal(doc, &h); err != nil {
		return "", err
	}
	if h.APIVersion != "monitoring.coreos.com/v1" {
		return "", nil
	}
	name := h.Kind + "/" + h.Metadata.Name
	switch h.Kind {
	case "ServiceMonitor":
		var sm monitoringv1.ServiceMonitor
		if err := yaml.UnmarshalStrict(doc, &sm); err != nil {
			return name, err
		}
		if len(sm.Spec.Endpoints) == 0 {
			return name, fmt.Errorf("spec.endpoints is empty")
		}
	case "PrometheusRule":
		var pr monitoringv1.PrometheusRule
		if err := yaml.UnmarshalStrict(doc, &pr); err != nil {
			return name, err
		}
		for _, g := range pr.Spec.Groups {
			for _, r := range g.Rules {
				if (r.Record == "") == (r.Alert == "") {
					return name, fmt.Errorf("group %s: a rule needs exactly one of record and alert", g.Name)
				}
				if r.Expr.String() == "" {
					return name, fmt.Errorf("group %s: rule %s%s has no expr", g.Name, r.Record, r.Alert)
				}
			}
		}
	default:
		return name, fmt.Errorf("unknown kind %s", h.Kind)
	}
	return name, nil
}

func main() {
	failed := false
	for _, path := range os.Args[1:] {
		data, err := os.ReadFile(path)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
		for i, doc := range bytes.Split(data, []byte("\n---")) {
			if strings.TrimSpace(string(doc)) == "" {
				continue
			}
			name, err := check(doc)
			switch {
			case err != nil:
				fmt.Printf("ERROR %s document %d %s: %v\n", path, i+1, name, err)
				failed = true
			case name != "":
				fmt.Printf("OK %s %s\n", path, name)
			}
		}
	}
	if failed {
		os.Exit(1)
	}
}
