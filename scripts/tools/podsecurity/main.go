// podsecurity evaluates the pod templates of Kubernetes objects against a Pod Security Standard with the
// Kubernetes project's own admission library (k8s.io/pod-security-admission, what the API server runs).
//
// Usage: podsecurity [level] [version] < objects.json   (a JSON array; level default "restricted", version "latest")
// Prints a JSON array, one entry per object: kind, name, whether it holds a pod, allowed, and the forbidden reasons.
package main

import (
	"encoding/json"
	"fmt"
	"os"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/pod-security-admission/api"
	"k8s.io/pod-security-admission/policy"
)

type verdict struct {
	Kind      string   `json:"kind"`
	Name      string   `json:"name"`
	HasPod    bool     `json:"hasPod"`
	Allowed   bool     `json:"allowed"`
	Forbidden []string `json:"forbidden"`
}

// podOf returns the pod metadata and spec an object runs, or nil for objects without pods.
func podOf(kind string, raw json.RawMessage) (*metav1.ObjectMeta, *corev1.PodSpec, error) {
	switch kind {
	case "Pod":
		var o corev1.Pod
		err := json.Unmarshal(raw, &o)
		return &o.ObjectMeta, &o.Spec, err
	case "Deployment":
		var o appsv1.Deployment
		err := json.Unmarshal(raw, &o)
		return &o.Spec.Template.ObjectMeta, &o.Spec.Template.Spec, err
	case "StatefulSet":
		var o appsv1.StatefulSet
		err := json.Unmarshal(raw, &o)
		return &o.Spec.Template.ObjectMeta, &o.Spec.Template.Spec, err
	case "DaemonSet":
		var o appsv1.DaemonSet
		err := json.Unmarshal(raw, &o)
		return &o.Spec.Template.ObjectMeta, &o.Spec.Template.Spec, err
	case "Job":
		var o batchv1.Job
		err := json.Unmarshal(raw, &o)
		return &o.Spec.Template.ObjectMeta, &o.Spec.Template.Spec, err
	}
	return nil, nil, nil
}

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "podsecurity:", err)
		os.Exit(2)
	}
}

func run() error {
	levelName, versionName := "restricted", "latest"
	if len(os.Args) > 1 {
		levelName = os.Args[1]
	}
	if len(os.Args) > 2 {
		versionName = os.Args[2]
	}
	level, err := api.ParseLevel(levelName)
	if err != nil {
		return err
	}
	version, err := api.ParseVersion(versionName)
	if err != nil {
		return err
	}
	evaluator, err := policy.NewEvaluator(policy.DefaultChecks(), nil)
	if err != nil {
		return err
	}
	var objects []json.RawMessage
	if err := json.NewDecoder(os.Stdin).Decode(&objects); err != nil {
		return fmt.Errorf("stdin is not a JSON array of objects: %w", err)
	}
	verdicts := make([]verdict, 0, len(objects))
	for i, raw := range objects {
		var head struct {
			Kind     string            `json:"kind"`
			Metadata metav1.ObjectMeta `json:"metadata"`
		}
		if err := json.Unmarshal(raw, &head); err != nil {
			return fmt.Errorf("object %d: %w", i, err)
		}
		v := verdict{Kind: head.Kind, Name: head.Metadata.Name, Allowed: true, Forbidden: []string{}}
		meta, spec, err := podOf(head.Kind, raw)
		if err != nil {
			return fmt.Errorf("%s/%s: %w", head.Kind, head.Metadata.Name, err)
		}
		if spec != nil {
			v.HasPod = true
			for _, check := range evaluator.EvaluatePod(api.LevelVersion{Level: level, Version: version}, meta, spec) {
				if !check.Allowed {
					v.Allowed = false
					v.Forbidden = append(v.Forbidden, check.ForbiddenReason+": "+check.ForbiddenDetail)
				}
			}
		}
		verdicts = append(verdicts, v)
	}
	return json.NewEncoder(os.Stdout).Encode(verdicts)
}
