// The summary panel: the run's headline numbers and a recovery verdict per fault, written
// with the simulator's own number formatting. Built with textContent only: scenario text
// (node ids, names) is user data and never becomes HTML.

/** Replaces the children of `element` with new elements built by `build(add)`. */
function rebuild(element, build) {
  element.replaceChildren();
  build((tag, text, className) => {
    const child = document.createElement(tag);
    if (text !== undefined) child.textContent = text;
    if (className) child.className = className;
    element.append(child);
    return child;
  });
}

/**
 * Outcomes that only policies produce, shown when they happened: [key, term, palette colour,
 * count from the summary, what it means].
 */
const POLICY_OUTCOMES = [
  ['degraded', 'Degraded', 'fallback', (summary) => summary.degraded, 'requests answered by a degraded fallback: neither failures nor successes'],
  ['short-circuited', 'Short-circuited', 'short-circuited', (summary) => summary.failed_short_circuit, 'requests failed at once by an open circuit breaker'],
  ['throttled', 'Throttled', 'throttled', (summary) => summary.failed_throttled, 'requests the client refused itself (adaptive throttling)'],
  ['deadline', 'Deadline exceeded', 'expired', (summary) => summary.failed_deadline, 'requests failed when their deadline passed'],
  ['hedges', 'Hedges', 'hedges', (summary) => summary.hedges, 'extra attempts sent by hedging'],
  ['fallbacks', 'Fallback calls', 'fallback', (summary) => summary.fallback_requests, 'calls made to a fallback after a final failure'],
  ['not-sent', 'Not sent', 'rejected', (summary) => summary.refused_before_sending, 'requests or fallbacks that sent no attempt at all (an open breaker, throttling, or a deadline already gone)'],
];

/** One sentence for a fault verdict (see core/src/metrics/recovery.rs for their meaning). */
export function verdictSentence(verdict, format) {
  switch (verdict.verdict) {
    case 'recovered':
      if (verdict.after_s > 0) return `recovered ${format(verdict.after_s, 's')} after the fault ended`;
      return verdict.degraded
        ? 'recovered as soon as the fault ended'
        : 'recovered: goodput never dropped below its baseline';
    case 'metastable':
      return `metastable: still unhealthy ${format(verdict.unhealthy_for_s, 's')} after the fault ended (success ${format(verdict.success_share_at_end, 'share')} at the end)`;
    case 'undetermined':
      return `undetermined: not healthy yet ${format(verdict.observed_s, 's')} after the fault, when the run (or the next fault) came`;
    case 'unhealthy_before':
      return `unhealthy before the fault (success ${format(verdict.success_share, 'share')}), so recovery cannot be judged`;
    default:
      return String(verdict.verdict ?? 'unknown');
  }
}

/**
 * Fills the summary from a run report. `faults` are the fault windows (with labels);
 * `elapsedMs` how long the page waited for the run; `partial` when the run is still going.
 */
export function renderSummary(ui, { report, faults, partial, elapsedMs }, format) {
  const summary = report.summary;
  const latency = summary.latency_ms;
  rebuild(ui.summaryList, (add) => {
    const row = (term, value, detail, key, colour) => {
      const termCell = add('dt', term);
      if (colour) termCell.className = `swatch swatch-${colour}`;
      const cell = add('dd');
      cell.dataset.key = key;
      const strong = document.createElement('strong');
      strong.textContent = value;
      cell.append(strong);
      if (detail) cell.append(` ${detail}`);
    };
    row('Amplification', format(summary.amplification, 'x'), 'attempts per request', 'amplification');
    row('Success', format(summary.success_ratio, 'share'), `of ${format(summary.requests, 'count')} requests`, 'success');
    for (const [key, term, colour, count, meaning] of POLICY_OUTCOMES) {
      const value = count(summary);
      if (!(Number.isFinite(value) && value > 0)) continue;
      const share = summary.requests > 0 && key !== 'hedges' ? ` (${format(value / summary.requests, 'share')})` : '';
      const losers = key === 'hedges' && summary.hedge_losers > 0 ? `; ${format(summary.hedge_losers, 'count')} attempts lost the race` : '';
      row(term, `${format(value, 'count')}${share}`, `${meaning}${losers}`, key, colour);
    }
    row('Goodput', format(summary.goodput_per_s, 'per_s'), `of ${format(summary.offered_per_s, 'per_s')} offered`, 'goodput');
    row(
      'Latency p50 / p99',
      latency ? `${format(latency.p50, 'ms')} / ${format(latency.p99, 'ms')}` : '–',
      latency ? 'of successful requests' : 'no request succeeded',
      'latency',
    );
    row('Wasted work', format(summary.wasted_work_share, 'share'), 'of worker time went to abandoned attempts', 'wasted');
  });

  rebuild(ui.verdicts, (add) => {
    if (report.verdicts.length === 0) {
      add('li', faults.length === 0 ? 'No fault in this scenario.' : 'No fault has started yet.', 'muted');
      return;
    }
    for (const verdict of report.verdicts) {
      const window = faults[verdict.fault];
      const item = add('li', undefined, `verdict verdict-${verdict.verdict}`);
      item.dataset.verdict = verdict.verdict;
      const what = document.createElement('span');
      what.className = 'verdict-what';
      const label = window?.label ? ` (${window.label})` : '';
      what.textContent = `Fault on ${verdict.node}${label}, ${format(verdict.start_s, 's')}–${format(verdict.end_s, 's')}: `;
      const sentence = document.createElement('span');
      sentence.className = 'verdict-text';
      sentence.textContent = verdictSentence(verdict, format);
      item.append(what, sentence);
    }
  });

  ui.stopReason.hidden = !report.stop_reason;
  ui.stopReason.textContent = report.stop_reason ?? '';

  const facts = [
    partial
      ? `running: ${format(report.simulated_s, 's')} of ${format(report.duration_s, 's')} simulated`
      : report.status === 'stopped'
        ? `stopped at ${format(report.simulated_s, 's')} of ${format(report.duration_s, 's')}`
        : `${format(report.duration_s, 's')} simulated`,
    `seed ${report.seed}`,
    `${format(report.events, 'count')} events`,
    `digest ${report.digest}`,
  ];
  if (!partial && Number.isFinite(elapsedMs)) facts.push(`ran in ${Math.round(elapsedMs)} ms`);
  ui.runFacts.textContent = facts.join(' · ');
}
