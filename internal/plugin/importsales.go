package plugin

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/marketplace-rewards/rewards-operator/api/v1alpha1"
)

// Dry-run modes of import sales, as kubectl names them.
const (
	dryRunNone   = "none"
	dryRunServer = "server"
	dryRunClient = "client"
)

// progressEvery is how many rows pass between two progress lines when
// stderr is not a terminal.
const progressEvery = 1000

// defaultParallel is how many requests import sales has in flight: enough
// to keep an API server's cores busy over one HTTP/2 connection (make
// bench-import: more in flight also costs it less CPU per line), within
// the seats its priority and fairness gives one user of the default
// priority levels.
const defaultParallel = 32

// listPageSize is how many SalesRecords one list request reads, so that a
// namespace of tens of thousands is read in pages, as kubectl get does.
const listPageSize = 500

type importFlags struct {
	dryRun         string
	parallel       int
	forceConflicts bool
	strict         bool
}

func newImportCommand(o *Options) *cobra.Command {
	cmd := kindGroup(&cobra.Command{
		Use:   "import",
		Short: "Import billing lines",
		Example: `  # Import a CSV billing export as SalesRecords in namespace contoso
  kubectl rewards import sales billing-2026-11.csv -n contoso`,
	})
	f := &importFlags{}
	sales := &cobra.Command{
		Use:   "sales FILE.csv",
		Short: "Create or update SalesRecords from a CSV file of billing lines",
		Long: `Create or update one SalesRecord per line of a CSV file, by server-side
apply with the field manager "` + FieldManager + `", in the namespace of -n
(or of the current context).

The first line is a header naming the columns, in any order:
  offer, transactionId, amount, currency, billedAt      (required)
  seats, fraud, cancellationReason, cancellationTime    (optional)
The file must be UTF-8. amount is an exact decimal like 1234.56; currency
an ISO 4217 code like USD; billedAt and cancellationTime RFC 3339 instants
like 2026-01-31T00:00:00Z (kept to the second); fraud None, Suspected or
Proven; cancellationReason AccidentalPurchase or CancelledBeforeUse.

Each SalesRecord is named after its transaction id: the id itself when it
is a valid name, otherwise the id in lower case with other characters
turned into '-' and a hash of the id appended. The same file imported
again finds every record unchanged and writes nothing.

The import sets only what the file states: an optional column the file
does not have, or an empty cell, leaves the record's field as it is. So a
fraud finding or a cancellation recorded by someone else (or by an
earlier file) is never cleared by importing a billing export again. A
file's own value for a field someone else set is a conflict: the line is
refused, unless --force-conflicts. To clear a finding, edit the record.

A line that is not valid is refused with its line number, and nothing of
it is applied; the other lines are. So is a line the API server refuses
(for example one changing the amount of an existing record, which is
immutable). A line changing an existing record (billedAt, fraud, seats,
cancellation) is listed with the fields it changes. A line for an offer
that does not exist is imported with a warning (the line counts once the
offer exists), or refused with --strict.

Progress goes to stderr: a bar on a terminal, a line every 1000 rows
otherwise. The summary counts created, unchanged, updated and refused
lines.

Exit codes: 0 every line applied or unchanged, 1 some lines refused,
2 the file, the cluster or the namespace could not be read.`,
		Example: `  # Import a billing export into namespace contoso
  kubectl rewards import sales billing-2026-11.csv -n contoso

  # Check it with the API server's validation, writing nothing
  kubectl rewards import sales billing-2026-11.csv -n contoso --dry-run=server

  # Refuse the lines of offers that do not exist, for a pipeline
  kubectl rewards import sales billing-2026-11.csv -n contoso --strict

  # A minimal file
  cat > lines.csv <<'EOF'
  offer,transactionId,amount,currency,billedAt
  contoso-insights-saas,INV-2026-11-000999,80000.00,USD,2026-11-01T00:00:00Z
  EOF
  kubectl rewards import sales lines.csv -n rewards-demo`,
		Args:              exactArgs("FILE.csv"),
		ValidArgsFunction: completeFiles("csv"),
		RunE:              func(cmd *cobra.Command, args []string) error { return o.importSales(cmd, args[0], f) },
	}
	sales.Flags().StringVar(&f.dryRun, "dry-run", dryRunNone,
		`"server": send every change with the API server's dry run (validated, not stored); "client": only compare with what exists; "none": apply`)
	sales.Flags().IntVar(&f.parallel, "parallel", defaultParallel, "how many requests to have in flight at once")
	sales.Flags().BoolVar(&f.forceConflicts, "force-conflicts", false,
		"overwrite fields another field manager set, such as a fraud finding (as kubectl apply --server-side --force-conflicts)")
	sales.Flags().BoolVar(&f.strict, "strict", false, "refuse the lines of offers that do not exist, instead of importing them with a warning")
	_ = sales.RegisterFlagCompletionFunc("dry-run", completeValues(dryRunNone, dryRunServer, dryRunClient))
	cmd.AddCommand(sales)
	return cmd
}

// importSummary counts what happened to the rows.
type importSummary struct {
	created, unchanged, updated int
	refused                     []lineNote
	// changed are the updated rows, with what changed.
	changed []lineNote
}

func (s *importSummary) String() string {
	return fmt.Sprintf("created %d, unchanged %d, updated %d, refused %d", s.created, s.unchanged, s.updated, len(s.refused))
}

// existingRecord is what import needs of a SalesRecord in the cluster: its
// spec, and which optional fields the import's field manager owns.
type existingRecord struct {
	spec  v1alpha1.SalesRecordSpec
	owned optionalFields
}

// plannedRow is a row to apply: the fields to apply (what the row states,
// and what the import already owns and the row leaves empty), and what it
// changes of the existing record (nil for a new one).
type plannedRow struct {
	salesRow
	apply   v1alpha1.SalesRecordSpec
	has     optionalFields
	existed bool
	changes []string
}

func (o *Options) importSales(cmd *cobra.Command, path string, f *importFlags) error {
	if err := f.validate(cmd); err != nil {
		return err
	}
	rows, refused, err := readSalesCSV(o.In, path)
	if err != nil {
		return err
	}
	ns, err := o.namespace()
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(ctx(cmd))
	defer cancel()
	c, err := o.rewardsClient(ctx, ns)
	if err != nil {
		return err
	}
	existing, err := readSalesRecords(ctx, c, ns)
	if err != nil {
		return err
	}
	offers, err := o.readOffers(ctx, c, ns, f.strict)
	if err != nil {
		return err
	}

	sum := &importSummary{refused: refused}
	toApply, missingOffers := planImport(rows, existing, offers, f.strict, ns, sum)

	progress := newProgress(o.ErrOut, o.ErrOutIsTerminal(), len(rows)+len(refused))
	progress.add(len(rows) + len(refused) - len(toApply))
	var mu sync.Mutex
	var fatal error
	record := func(row plannedRow, err error) {
		mu.Lock()
		defer mu.Unlock()
		progress.add(1)
		if fatal != nil {
			return
		}
		switch {
		case err == nil && row.existed:
			sum.updated++
			sum.changed = append(sum.changed, lineNote{line: row.line, transactionID: row.spec.TransactionID, reason: strings.Join(row.changes, ", ")})
		case err == nil:
			sum.created++
		case isFatal(err):
			fatal = fatalImportError(err, ns, row.line)
			cancel()
		default:
			sum.refused = append(sum.refused, lineNote{line: row.line, transactionID: row.spec.TransactionID, reason: rowRefusalReason(row, err)})
		}
	}
	applyRows(ctx, c, ns, toApply, f, record)
	progress.done()
	if fatal != nil {
		return fatal
	}
	return o.reportImport(ns, sum, missingOffers, f)
}

// validate checks the flags' values before anything is read.
func (f *importFlags) validate(cmd *cobra.Command) error {
	switch f.dryRun {
	case dryRunNone, dryRunServer, dryRunClient:
	default:
		return usageErrorf(cmd, `--dry-run=%q: use "none", "server" or "client"`, f.dryRun)
	}
	if f.parallel < 1 {
		return usageErrorf(cmd, "--parallel %d: give 1 or more", f.parallel)
	}
	return nil
}

// readSalesCSV parses the CSV file at path, or stdin when path is "-".
func readSalesCSV(stdin io.Reader, path string) ([]salesRow, []lineNote, error) {
	in := stdin
	if path != "-" {
		file, err := os.Open(path)
		if err != nil {
			return nil, nil, err
		}
		defer file.Close()
		in = file
	}
	rows, refused, err := parseSalesCSV(in)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", path, err)
	}
	return rows, refused, nil
}

// readSalesRecords reads the namespace's SalesRecords, in pages: unchanged
// rows then need no request at all.
func readSalesRecords(ctx context.Context, c client.Reader, ns string) (map[string]*existingRecord, error) {
	existing := map[string]*existingRecord{}
	cont := ""
	for {
		var page v1alpha1.SalesRecordList
		if err := c.List(ctx, &page, client.InNamespace(ns), client.Limit(listPageSize), client.Continue(cont)); err != nil {
			return nil, fmt.Errorf("listing the SalesRecords of namespace %s: %w", ns, err)
		}
		for i := range page.Items {
			r := &page.Items[i]
			existing[r.Name] = &existingRecord{spec: r.Spec, owned: ownedByImport(r.ManagedFields)}
		}
		if cont = page.Continue; cont == "" {
			return existing, nil
		}
	}
}

// readOffers reads the names of the namespace's offers, to tell the lines
// of an offer that does not exist. A billing identity may be allowed
// SalesRecords only: then nil (nothing is checked) and a note, unless
// --strict, which cannot do without them.
func (o *Options) readOffers(ctx context.Context, c client.Reader, ns string, strict bool) (map[string]bool, error) {
	var list v1alpha1.OfferList
	err := c.List(ctx, &list, client.InNamespace(ns))
	switch {
	case apierrors.IsForbidden(err) && !strict:
		fmt.Fprintf(o.ErrOut, "note: you may not list the Offers of namespace %s, so the lines are imported without checking that their offer exists\n", ns)
		return nil, nil
	case apierrors.IsForbidden(err):
		return nil, fmt.Errorf("--strict checks that each line's offer exists, and you may not list the Offers of namespace %s: %w", ns, err)
	case err != nil:
		return nil, fmt.Errorf("listing the Offers of namespace %s: %w", ns, err)
	}
	offers := make(map[string]bool, len(list.Items))
	for _, of := range list.Items {
		offers[of.Name] = true
	}
	return offers, nil
}

// ownedByImport says which optional fields of a SalesRecord the import's
// field manager owns, from its managed fields. Their FieldsV1 is JSON with
// one "f:<field>" key per field owned, nested as the object is.
func ownedByImport(entries []metav1.ManagedFieldsEntry) optionalFields {
	var owned optionalFields
	for _, e := range entries {
		if e.Manager != FieldManager || e.Operation != metav1.ManagedFieldsOperationApply || e.FieldsV1 == nil {
			continue
		}
		var fields struct {
			Spec map[string]json.RawMessage `json:"f:spec"`
		}
		if err := json.Unmarshal(e.FieldsV1.GetRawBytes(), &fields); err != nil {
			continue
		}
		_, owned.seats = fields.Spec["f:seats"]
		_, owned.fraud = fields.Spec["f:fraud"]
		var cancellation map[string]json.RawMessage
		if raw, ok := fields.Spec["f:cancellation"]; ok && json.Unmarshal(raw, &cancellation) == nil {
			_, owned.cancellationReason = cancellation["f:reason"]
			_, owned.cancellationTime = cancellation["f:time"]
		}
	}
	return owned
}

// planImport sorts the rows: unchanged ones are counted, lines of missing
// offers refused (strict) or noted, the others returned to apply with the
// fields they change. missingOffers lists, per missing offer, the lines
// imported for it; offers nil means they could not be read, and are not
// checked.
func planImport(rows []salesRow, existing map[string]*existingRecord, offers map[string]bool, strict bool, ns string,
	sum *importSummary,
) (toApply []plannedRow, missingOffers map[string][]int) {
	missingOffers = map[string][]int{}
	for _, row := range rows {
		if offer := row.spec.OfferRef.Name; offers != nil && !offers[offer] {
			if strict {
				sum.refused = append(sum.refused, lineNote{line: row.line, transactionID: row.spec.TransactionID,
					reason: fmt.Sprintf("offer %q does not exist in namespace %s (--strict)", offer, ns)})
				continue
			}
			missingOffers[offer] = append(missingOffers[offer], row.line)
		}
		p := plannedRow{salesRow: row, apply: row.spec, has: row.stated}
		if cur, ok := existing[row.name]; ok {
			p.existed = true
			carryOwned(&p, cur)
			p.changes = specChanges(&cur.spec, &p.apply, p.has)
			if len(p.changes) == 0 {
				sum.unchanged++
				continue
			}
		}
		toApply = append(toApply, p)
	}
	return toApply, missingOffers
}

// carryOwned keeps, in what p applies, the optional fields the import owns
// on the existing record and the row leaves empty: applying without them
// would make the API server remove them (server-side apply removes the
// fields a manager stops applying, unless another manager owns them).
// Fields another manager owns are left out, so they are never touched.
func carryOwned(p *plannedRow, cur *existingRecord) {
	s, c := &p.apply, &cur.spec
	if cur.owned.seats && !p.has.seats {
		s.Seats, p.has.seats = c.Seats, true
	}
	if cur.owned.fraud && !p.has.fraud {
		s.Fraud, p.has.fraud = c.Fraud, true
	}
	if c.Cancellation == nil {
		return
	}
	if cur.owned.cancellationReason && !p.has.cancellationReason {
		s.Cancellation = &v1alpha1.Cancellation{Reason: c.Cancellation.Reason}
		p.has.cancellationReason = true
	}
	if cur.owned.cancellationTime && !p.has.cancellationTime && s.Cancellation != nil && c.Cancellation.Time != nil {
		t := *c.Cancellation.Time
		s.Cancellation.Time, p.has.cancellationTime = &t, true
	}
}

// specChanges lists what applying s (its required fields and the optional
// ones in has) changes of cur, as "field old -> new".
func specChanges(cur, s *v1alpha1.SalesRecordSpec, has optionalFields) []string {
	var out []string
	change := func(field, from, to string) {
		if from != to {
			out = append(out, fmt.Sprintf("%s %s -> %s", field, orNone(from), orNone(to)))
		}
	}
	change(columnOffer, cur.OfferRef.Name, s.OfferRef.Name)
	change("amount", string(cur.Amount), string(s.Amount))
	change("currency", string(cur.Currency), string(s.Currency))
	change("billedAt", instant(cur.BilledAt.Time), instant(s.BilledAt.Time))
	if has.seats {
		change("seats", fmt.Sprint(cur.Seats), fmt.Sprint(s.Seats))
	}
	if has.fraud {
		change("fraud", string(cur.Fraud), string(s.Fraud))
	}
	if has.cancellationReason {
		change("cancellationReason", cancellationReason(cur.Cancellation), cancellationReason(s.Cancellation))
	}
	if has.cancellationTime {
		change("cancellationTime", cancellationTime(cur.Cancellation), cancellationTime(s.Cancellation))
	}
	return out
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}

func cancellationReason(c *v1alpha1.Cancellation) string {
	if c == nil {
		return ""
	}
	return string(c.Reason)
}

func cancellationTime(c *v1alpha1.Cancellation) string {
	if c == nil || c.Time == nil {
		return ""
	}
	return instant(c.Time.Time)
}

// applyRows applies each row by server-side apply (with the API server's dry
// run for --dry-run=server, not at all for --dry-run=client), with up to
// f.parallel requests in flight, and passes each row's result to record,
// which must be safe for concurrent use. Once ctx is cancelled the rows not
// yet sent are dropped. It returns once every row sent is recorded.
func applyRows(ctx context.Context, c client.Client, ns string, rows []plannedRow, f *importFlags, record func(plannedRow, error)) {
	opts := []client.ApplyOption{client.FieldOwner(FieldManager)}
	if f.forceConflicts {
		opts = append(opts, client.ForceOwnership)
	}
	if f.dryRun == dryRunServer {
		opts = append(opts, client.DryRunAll)
	}
	work := make(chan plannedRow)
	var wg sync.WaitGroup
	for range min(f.parallel, max(len(rows), 1)) {
		wg.Go(func() {
			for row := range work {
				var err error
				if f.dryRun != dryRunClient {
					err = c.Apply(ctx, client.ApplyConfigurationFromUnstructured(salesRecordApply(ns, row)), opts...)
				}
				record(row, err)
			}
		})
	}
send:
	for _, row := range rows {
		select {
		case work <- row:
		case <-ctx.Done():
			break send
		}
	}
	close(work)
	wg.Wait()
}

// isFatal reports whether an apply error is about the import as a whole
// rather than its row: the namespace is gone, or the API server did not
// answer (no API status at all), or the import was interrupted.
func isFatal(err error) bool {
	var status apierrors.APIStatus
	if !errors.As(err, &status) {
		return true
	}
	d := status.Status().Details
	return apierrors.IsNotFound(err) && d != nil && d.Kind == "namespaces"
}

// fatalImportError is the one error that ends an import that cannot go on.
func fatalImportError(err error, ns string, line int) error {
	if apierrors.IsNotFound(err) {
		return fmt.Errorf("namespace %q not found (check -n, or the namespace of the current context)", ns)
	}
	return fmt.Errorf("the import stopped at line %d: %w; the lines applied before it stay, and importing the file again "+
		"applies the rest (what is there already is found unchanged)", line, err)
}

// reportImport prints the missing offers, the updated and refused rows by
// line, and the summary, and returns the exit error when some rows were
// refused.
func (o *Options) reportImport(ns string, sum *importSummary, missingOffers map[string][]int, f *importFlags) error {
	offerNames := make([]string, 0, len(missingOffers))
	for offer := range missingOffers {
		offerNames = append(offerNames, offer)
	}
	sort.Strings(offerNames)
	for _, offer := range offerNames {
		fmt.Fprintf(o.ErrOut, "warning: offer %q does not exist in namespace %s: %s imported for it, counted once it exists "+
			"(--strict refuses such lines)\n", offer, ns, linesText(missingOffers[offer]))
	}
	byLine := func(rs []lineNote) {
		sort.Slice(rs, func(i, j int) bool { return rs[i].line < rs[j].line })
	}
	byLine(sum.changed)
	for _, r := range sum.changed {
		fmt.Fprintf(o.Out, "updated: %s\n", r)
	}
	byLine(sum.refused)
	for _, r := range sum.refused {
		fmt.Fprintf(o.ErrOut, "refused: %s\n", r)
	}
	mode := ""
	if f.dryRun != dryRunNone {
		mode = fmt.Sprintf(" (dry run: %s; nothing was stored)", f.dryRun)
	}
	fmt.Fprintf(o.Out, "SalesRecords in namespace %s: %s%s\n", ns, sum, mode)
	if len(sum.refused) > 0 {
		return &exitError{code: ExitDifferences, msg: fmt.Sprintf("%d rows refused", len(sum.refused))}
	}
	return nil
}

// linesText names lines by number, the first ten of them.
func linesText(lines []int) string {
	const shown = 10
	sort.Ints(lines)
	nums := make([]string, 0, shown)
	for _, l := range lines[:min(len(lines), shown)] {
		nums = append(nums, fmt.Sprint(l))
	}
	if len(lines) == 1 {
		return "line " + nums[0] + " is"
	}
	more := ""
	if len(lines) > shown {
		more = ", ..."
	}
	return fmt.Sprintf("%d lines (%s%s) are", len(lines), strings.Join(nums, ", "), more)
}

// rowRefusalReason is why the API server refused a row: what the row
// changes of an existing record, then the API server's causes, with the
// way out of a conflict.
func rowRefusalReason(row plannedRow, err error) string {
	reason := "refused by the API server: " + apiMessage(err)
	if apierrors.IsConflict(err) {
		reason = "refused by the API server: " + conflictMessage(err) + "; --force-conflicts overwrites it"
	}
	if len(row.changes) > 0 {
		reason = strings.Join(row.changes, ", ") + ": " + reason
	}
	return reason
}

// conflictMessage names the fields another field manager owns, and who.
func conflictMessage(err error) string {
	var status apierrors.APIStatus
	if errors.As(err, &status) && status.Status().Details != nil {
		var causes []string
		for _, c := range status.Status().Details.Causes {
			if c.Type == metav1.CauseTypeFieldManagerConflict {
				causes = append(causes, fmt.Sprintf("%s was set by another field manager (%s)", strings.TrimPrefix(c.Field, "."), c.Message))
			}
		}
		if len(causes) > 0 {
			return strings.Join(causes, "; ")
		}
	}
	return apiMessage(err)
}

// salesRecordApply is the apply configuration of a row: its required
// fields and the optional fields in row.has, nothing else.
func salesRecordApply(namespace string, row plannedRow) *unstructured.Unstructured {
	s := &row.apply
	spec := map[string]any{
		"offerRef":      map[string]any{"name": s.OfferRef.Name},
		"transactionId": s.TransactionID,
		"amount":        string(s.Amount),
		"currency":      string(s.Currency),
		"billedAt":      s.BilledAt.UTC().Format(time.RFC3339),
	}
	if row.has.seats {
		spec["seats"] = s.Seats
	}
	if row.has.fraud {
		spec["fraud"] = string(s.Fraud)
	}
	if row.has.cancellationReason && s.Cancellation != nil {
		c := map[string]any{"reason": string(s.Cancellation.Reason)}
		if row.has.cancellationTime && s.Cancellation.Time != nil {
			c["time"] = s.Cancellation.Time.UTC().Format(time.RFC3339)
		}
		spec["cancellation"] = c
	}
	return &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": v1alpha1.GroupVersion.String(),
		"kind":       "SalesRecord",
		"metadata":   map[string]any{"name": row.name, "namespace": namespace},
		"spec":       spec,
	}}
}

// progress reports how many rows are done on stderr: a bar redrawn in
// place on a terminal, a plain line every progressEvery rows otherwise.
type progress struct {
	w        io.Writer
	terminal bool
	total    int
	n        int
	drawn    int // the last percentage drawn
}

func newProgress(w io.Writer, terminal bool, total int) *progress {
	return &progress{w: w, terminal: terminal, total: total, drawn: -1}
}

// add counts n more rows done; callers serialize calls.
func (p *progress) add(n int) {
	before := p.n
	p.n += n
	if p.total == 0 {
		return
	}
	if !p.terminal {
		if p.n/progressEvery > before/progressEvery {
			fmt.Fprintf(p.w, "%d/%d rows\n", p.n/progressEvery*progressEvery, p.total)
		}
		return
	}
	if pct := p.n * 100 / p.total; pct != p.drawn {
		p.drawn = pct
		const width = 40
		filled := width * p.n / p.total
		fmt.Fprintf(p.w, "\r[%s%s] %3d%% %d/%d rows", strings.Repeat("#", filled), strings.Repeat(".", width-filled), pct, p.n, p.total)
	}
}

// done ends the bar's line.
func (p *progress) done() {
	if p.terminal && p.drawn >= 0 {
		fmt.Fprintln(p.w)
	}
}
