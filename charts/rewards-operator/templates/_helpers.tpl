{{/*
The chart name, or nameOverride: the app.kubernetes.io/name label.
*/}}
{{- define "rewards-operator.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
The prefix of every object's name. Truncated so that the longest name (its metrics Service) fits in 63
characters. With the release called
"rewards-operator" the objects get the names config/default gives them
(rewards-operator-controller-manager, ...).
*/}}
{{- define "rewards-operator.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 28 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 28 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 28 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{/*
Labels of every object.
*/}}
{{- define "rewards-operator.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
app.kubernetes.io/name: {{ include "rewards-operator.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{/*
Labels that select the manager's pods (Deployment, Service,
NetworkPolicy, ServiceMonitor).
*/}}
{{- define "rewards-operator.selectorLabels" -}}
control-plane: controller-manager
app.kubernetes.io/name: {{ include "rewards-operator.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/*
The operator's ServiceAccount name: serviceAccount.name, or the
Deployment's name (<fullname>-controller-manager).
*/}}
{{- define "rewards-operator.serviceAccountName" -}}
{{- if .Values.serviceAccount.name }}
{{- .Values.serviceAccount.name }}
{{- else if .Values.serviceAccount.create }}
{{- include "rewards-operator.fullname" . }}-controller-manager
{{- else }}
{{- fail "serviceAccount.create is false: set serviceAccount.name to the existing ServiceAccount the operator runs as" }}
{{- end }}
{{- end }}

{{/*
The metrics Service's name, which its serving certificate names.
*/}}
{{- define "rewards-operator.metricsServiceName" -}}
{{ include "rewards-operator.fullname" . }}-controller-manager-metrics-service
{{- end }}

{{/*
The Secret whose token the ServiceMonitor presents:
metrics.serviceMonitor.authorization.secretName, or the token Secret of
the metrics-scraper ServiceAccount the chart creates.
*/}}
{{- define "rewards-operator.scrapeTokenSecretName" -}}
{{- default (printf "%s-metrics-scraper-token" (include "rewards-operator.fullname" .)) .Values.metrics.serviceMonitor.authorization.secretName }}
{{- end }}

{{/*
The image reference: repository with the digest if given, else the tag
(the chart's appVersion by default).
*/}}
{{- define "rewards-operator.image" -}}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}
{{- end }}

{{/*
The namespace of the leader election Lease and its Role.
*/}}
{{- define "rewards-operator.leaderElectionNamespace" -}}
{{- default .Release.Namespace .Values.leaderElection.namespace }}
{{- end }}

{{/*
rulesOf returns the rules of a Role or ClusterRole that config/rbac
defines; `make manifests` copies those files into files/rbac, so the chart
grants exactly what kustomize does. Usage:
  {{ include "rewards-operator.rulesOf" (list . "role.yaml") }}
*/}}
{{- define "rewards-operator.rulesOf" -}}
{{- $root := index . 0 }}
{{- $file := printf "files/rbac/%s" (index . 1) }}
{{- $role := $root.Files.Get $file | fromYaml }}
{{- if not $role.rules }}
{{- fail (printf "%s holds no rules: run `make manifests`" $file) }}
{{- end }}
{{- toYaml $role.rules }}
{{- end }}

{{/*
aggregationLabelsOf returns the rbac.authorization.k8s.io/aggregate-to-*
labels of a ClusterRole of config/rbac (files/rbac). Usage:
  {{ include "rewards-operator.aggregationLabelsOf" (list . "viewer_role.yaml") }}
*/}}
{{- define "rewards-operator.aggregationLabelsOf" -}}
{{- $root := index . 0 }}
{{- $role := $root.Files.Get (printf "files/rbac/%s" (index . 1)) | fromYaml }}
{{- range $k, $v := $role.metadata.labels }}
{{- if hasPrefix "rbac.authorization.k8s.io/aggregate-to-" $k }}
{{ $k }}: {{ $v | quote }}
{{- end }}
{{- end }}
{{- end }}
