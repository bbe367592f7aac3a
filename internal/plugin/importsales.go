package plugin

import (
	"context"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
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

type importFlags struct {
	dryRun         string
	concurrency    int
	forceConflicts bool
}

func newImportCommand(o *Options) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "import",
		Short: "Import billing lines",
		Example: `  # Import a CSV billing export as SalesRecords in namespace contoso
  kubectl rewards import sales billing-2026-11.csv -n contoso`,
	}
	f := &importFlags{}
	sales := &cobra.Command{
		Use:   "sales FILE.csv",
		Short: "Create or update SalesRecords from a CSV file of billing lines",
		Long: `Create or update one SalesRecord per line of a CSV file, by server-side
apply (field manager "kubectl-rewards"), in the namespace of -n (or of the
current context).

The first line is a header naming the columns, in any order:
  offer, transactionId, amount, currency, billedAt      (required)
  seats, fraud, cancellationReason, cancellationTime    (optional)
amount is an exact decimal like 1234.56; currency an ISO 4217 code like
USD; billedAt and cancellationTime RFC 3339 instants like
2026-01-31T00:00:00Z (kept to the second); fraud None, Suspected or
Proven; cancellationReason AccidentalPurchase or CancelledBeforeUse.

Each SalesRecord is named after its transaction id: the id itself when it
is a valid name, otherwise the id in lower case with other characters
turned into '-' and a hash of the id appended. The same file imported
again finds every record unchanged and writes nothing.

A row that is not valid is refused with its line number, and nothing of
it is applied; the other rows are. So is a row the API server refuses
(for example one changing the amount of an existing record, which is
immutable). Progress goes to stderr: a bar on a terminal, a line every
1000 rows otherwise. The summary counts created, unchanged, updated and
refused rows.

Exit codes: 0 every row applied or unchanged, 1 some rows refused,
2 the file or the cluster could not be read.`,
		Example: `  # Import a billing export into namespace contoso
  kubectl rewards import sales billing-2026-11.csv -n contoso

  # Check it with the API server's validation, writing nothing
  kubectl rewards import sales billing-2026-11.csv -n contoso --dry-run=server

  # A minimal file
  cat > lines.csv <<'EOF'
  offer,transactionId,amount,currency,billedAt
  contoso-insights-saas,INV-2026-11-000999,80000.00,USD,2026-11-01T00:00:00Z
  EOF
  kubectl rewards import sales lines.csv -n rewards-demo`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error { return o.importSales(cmd, args[0], f) },
	}
	sales.Flags().StringVar(&f.dryRun, "dry-run", dryRunNone,
		`"server": send every change with the API server's dry run (validated, not stored); "client": only compare with what exists; "none": apply`)
	sales.Flags().IntVar(&f.concurrency, "concurrency", 8, "how many requests to have in flight at once")
	sales.Flags().BoolVar(&f.forceConflicts, "force-conflicts", false,
		"take over fields another field manager set (as kubectl apply --server-side --force-conflicts)")
	cmd.AddCommand(sales)
	return cmd
}

// importSummary counts what happened to the rows.
type importSummary struct {
	created, unchanged, updated int
	refused                     []rowRefusal
}

func (s *importSummary) String() string {
	return fmt.Sprintf("created %d, unchanged %d, updated %d, refused %d", s.created, s.unchanged, s.updated, len(s.refused))
}

func (o *Options) importSales(cmd *cobra.Command, path string, f *importFlags) error {
	if err := f.validate(); err != nil {
		return err
	}
	rows, refused, err := readSalesCSV(o.In, path)
	if err != nil {
		return err
	}

	c, err := o.client()
	if err != nil {
		return err
	}
	ns, err := o.namespace()
	if err != nil {
		return err
	}
	ctx := ctx(cmd)
	// What exists, read once: unchanged rows need no request at all.
	var existing v1alpha1.SalesRecordList
	if err := c.List(ctx, &existing, client.InNamespace(ns)); err != nil {
		return fmt.Errorf("listing the SalesRecords of namespace %s: %w", ns, err)
	}
	specs := make(map[string]*v1alpha1.SalesRecordSpec, len(existing.Items))
	for i := range existing.Items {
		specs[existing.Items[i].Name] = &existing.Items[i].Spec
	}

	sum := &importSummary{refused: refused}
	var toApply []salesRow
	for _, row := range rows {
		if cur, ok := specs[row.name]; ok && sameSalesSpec(cur, &row.spec) {
			sum.unchanged++
			continue
		}
		toApply = append(toApply, row)
	}

	progress := newProgress(o.ErrOut, o.ErrOutIsTerminal(), len(rows)+len(refused))
	progress.add(sum.unchanged + len(refused))
	var mu sync.Mutex
	record := func(row salesRow, err error) {
		mu.Lock()
		defer mu.Unlock()
		switch _, existed := specs[row.name]; {
		case err != nil:
			sum.refused = append(sum.refused, rowRefusal{line: row.line, transactionID: row.spec.TransactionID, reason: refusalReason(err)})
		case existed:
			sum.updated++
		default:
			sum.created++
		}
		progress.add(1)
	}
	applyRows(ctx, c, ns, toApply, f, record)
	progress.done()
	return o.reportImport(ns, sum, f.dryRun)
}

// validate checks the flags' values before anything is read. It exists to
// keep importSales short (gocyclo).
func (f *importFlags) validate() error {
	switch f.dryRun {
	case dryRunNone, dryRunServer, dryRunClient:
	default:
		return fmt.Errorf(`--dry-run=%q: use "none", "server" or "client"`, f.dryRun)
	}
	if f.concurrency < 1 {
		return fmt.Errorf("--concurrency %d: give 1 or more", f.concurrency)
	}
	return nil
}

// readSalesCSV parses the CSV file at path, or stdin when path is "-". It
// exists so that the file is opened and closed in one place, outside
// importSales (gocyclo).
func readSalesCSV(stdin io.Reader, path string) ([]salesRow, []rowRefusal, error) {
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

// applyRows applies each row by server-side apply (with the API server's dry
// run for --dry-run=server, not at all for --dry-run=client), with up to
// f.concurrency requests in flight, and passes each row's result to record,
// which must be safe for concurrent use. It returns once every row is
// recorded. It exists to keep importSales short (gocyclo).
func applyRows(ctx context.Context, c client.Client, ns string, rows []salesRow, f *importFlags, record func(salesRow, error)) {
	opts := []client.ApplyOption{client.FieldOwner(FieldManager)}
	if f.forceConflicts {
		opts = append(opts, client.ForceOwnership)
	}
	if f.dryRun == dryRunServer {
		opts = append(opts, client.DryRunAll)
	}
	work := make(chan salesRow)
	var wg sync.WaitGroup
	for range min(f.concurrency, max(len(rows), 1)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for row := range work {
				var err error
				if f.dryRun != dryRunClient {
					err = c.Apply(ctx, client.ApplyConfigurationFromUnstructured(salesRecordApply(ns, row)), opts...)
				}
				record(row, err)
			}
		}()
	}
	for _, row := range rows {
		work <- row
	}
	close(work)
	wg.Wait()
}

// reportImport prints the refused rows, by line, and the summary, and
// returns the exit error when some rows were refused. It exists to keep
// importSales short (gocyclo).
func (o *Options) reportImport(ns string, sum *importSummary, dryRun string) error {
	sort.Slice(sum.refused, func(i, j int) bool { return sum.refused[i].line < sum.refused[j].line })
	for _, r := range sum.refused {
		fmt.Fprintf(o.ErrOut, "refused: %s\n", r)
	}
	mode := ""
	if dryRun != dryRunNone {
		mode = fmt.Sprintf(" (dry run: %s; nothing was stored)", dryRun)
	}
	fmt.Fprintf(o.Out, "SalesRecords in namespace %s: %s%s\n", ns, sum, mode)
	if len(sum.refused) > 0 {
		return &exitError{code: ExitDifferences, msg: fmt.Sprintf("%d rows refused", len(sum.refused))}
	}
	return nil
}

// refusalReason is the API server's reason for refusing a row, without
// the long prefix naming the object (the line number says which row).
func refusalReason(err error) string {
	if status, ok := err.(apierrors.APIStatus); ok && status.Status().Details != nil {
		causes := make([]string, 0, len(status.Status().Details.Causes))
		for _, c := range status.Status().Details.Causes {
			causes = append(causes, strings.TrimSpace(c.Field+": "+c.Message))
		}
		if len(causes) > 0 {
			return "refused by the API server: " + strings.Join(causes, "; ")
		}
	}
	return "refused by the API server: " + err.Error()
}

// sameSalesSpec reports whether an existing record already holds what the
// row would apply.
func sameSalesSpec(a, b *v1alpha1.SalesRecordSpec) bool {
	sameCancellation := (a.Cancellation == nil) == (b.Cancellation == nil)
	if sameCancellation && a.Cancellation != nil {
		ta, tb := a.Cancellation.Time, b.Cancellation.Time
		sameCancellation = a.Cancellation.Reason == b.Cancellation.Reason && (ta == nil) == (tb == nil) && (ta == nil || ta.Equal(tb))
	}
	return a.OfferRef == b.OfferRef && a.TransactionID == b.TransactionID && a.Amount == b.Amount && a.Currency == b.Currency &&
		a.BilledAt.Equal(&b.BilledAt) && a.Seats == b.Seats && a.Fraud == b.Fraud && sameCancellation
}

// salesRecordApply is the apply configuration of a row: exactly the
// fields the row sets, so that a field left empty in the CSV is given up
// by the field manager (and removed, if no one else set it).
func salesRecordApply(namespace string, row salesRow) *unstructured.Unstructured {
	s := &row.spec
	spec := map[string]any{
		"offerRef":      map[string]any{"name": s.OfferRef.Name},
		"transactionId": s.TransactionID,
		"amount":        string(s.Amount),
		"currency":      string(s.Currency),
		"billedAt":      s.BilledAt.UTC().Format(time.RFC3339),
	}
	if s.Seats != 0 {
		spec["seats"] = s.Seats
	}
	if s.Fraud != "" {
		spec["fraud"] = string(s.Fraud)
	}
	if s.Cancellation != nil {
		c := map[string]any{"reason": string(s.Cancellation.Reason)}
		if s.Cancellation.Time != nil {
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
