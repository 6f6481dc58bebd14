import { api } from '../api';
import { Chart, ErrorNote, Head, Section, Status, steps } from '../components';
import { count, money, time } from '../format';
import { usePoll } from '../hooks';
import type { Fleet } from '../types';

const backlog = (f: Fleet) => (f.visible ?? 0) + (f.inFlight ?? 0);

/** Every fleet: desired vs actual workers, backlog, autoscaler, cost per hour. */
export function FleetsPage() {
  const fleets = usePoll(() => api<{ fleets: Fleet[] }>('GET', '/v1/fleets?decisions=1'), 'fleets');
  return (
    <>
      <h1>Fleets</h1>
      <ErrorNote error={fleets.error} />
      <table>
        <Head cols={['Fleet', 'Provider', 'Autoscaler', 'Desired', 'Actual', 'Workers up', 'Bounds', 'Backlog (waiting + in flight)', 'Cost per hour', 'Last decision']} />
        <tbody>
          {(fleets.data?.fleets ?? []).map((f) => (
            <tr key={f.fleet} data-fleet={f.fleet}>
              <td>
                <a href={`#/fleets/${f.fleet}`}>{f.fleet}</a>
              </td>
              <td>{f.provider}</td>
              <td>
                <Status status={f.autoscaler} />
              </td>
              <td>{f.desired}</td>
              <td>{f.actual ?? '—'}</td>
              <td>{f.workersUp}</td>
              <td>
                {f.min}–{f.max}
              </td>
              <td>{count(backlog(f))}</td>
              <td>{money(f.costPerHour)}</td>
              <td>{f.decisions[0] ? `${time(f.decisions[0].at)}: ${f.decisions[0].reason}` : '—'}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {fleets.data && fleets.data.fleets.length === 0 ? <p>No fleet yet: start one with batchgrid grid start FLEET_FILE.</p> : null}
    </>
  );
}

/** One fleet: desired vs actual workers and backlog over time, its scaling decisions with their reasons, live workers with their load. */
export function FleetPage({ fleet }: { fleet: string }) {
  const f = usePoll(() => api<Fleet>('GET', `/v1/fleets/${fleet}?decisions=200`), `fleet-${fleet}`);
  const d = f.data;
  // The decisions, oldest first, then the fleet as last observed: a step chart up to now.
  const chrono = [...(d?.decisions ?? [])].reverse();
  if (d && chrono.length) chrono.push({ at: d.observedAt ?? new Date().toISOString(), desired: d.desired, workers: d.actual ?? d.workersUp, visible: d.visible ?? 0, inFlight: d.inFlight ?? 0, previous: d.desired, reason: 'now' });
  const xs = chrono.map((x) => Date.parse(x.at) / 1000);
  return (
    <>
      <h1>
        Fleet <code>{fleet}</code>
      </h1>
      <ErrorNote error={f.error} />
      {d ? (
        <>
          <p class="meta">
            {d.provider} · autoscaler <Status status={d.autoscaler} /> · desired <strong>{d.desired}</strong> · actual <strong>{d.actual ?? '—'}</strong> · {d.workersUp} workers up · bounds {d.min}–{d.max} · backlog {count(backlog(d))} ·
            price {money(d.pricePerWorkerHour)}/worker-hour · <span class="cost">cost per hour {money(d.costPerHour)}</span> · observed {time(d.observedAt)}
          </p>
          {chrono.length ? (
            <Chart
              title="Desired vs actual workers, and backlog, at each scaling decision"
              data={[xs, chrono.map((x) => x.desired), chrono.map((x) => x.workers), chrono.map((x) => x.visible), chrono.map((x) => x.inFlight)]}
              series={[
                { label: 'desired', stroke: '#1f77b4', width: 2, paths: steps() },
                { label: 'workers', stroke: '#2ca02c', width: 2, paths: steps() },
                { label: 'waiting', stroke: '#ff7f0e', dash: [4, 4], paths: steps() },
                { label: 'in flight', stroke: '#9467bd', dash: [4, 4], paths: steps() },
              ]}
              yLabel="workers"
            />
          ) : null}
          <Section title="Scaling decisions">
            <table class="decisions">
              <Head cols={['Time', 'Desired', 'Waiting', 'In flight', 'Workers', 'Reason']} />
              <tbody>
                {d.decisions.map((x) => (
                  <tr key={x.at + x.reason}>
                    <td>{time(x.at)}</td>
                    <td>
                      {x.previous} → {x.desired}
                    </td>
                    <td>{count(x.visible)}</td>
                    <td>{count(x.inFlight)}</td>
                    <td>{x.workers}</td>
                    <td class="reason">{x.reason}</td>
                  </tr>
                ))}
              </tbody>
            </table>
            {d.decisions.length === 0 ? <p>No decision recorded yet.</p> : null}
          </Section>
          <Section title="Live workers">
            <table class="workers">
              <Head cols={['Worker', 'Instance', 'Load', 'Busy slots', 'Parts done', 'Failed', 'Started', 'Last seen']} />
              <tbody>
                {(d.workers ?? []).map((w) => (
                  <tr key={w.workerId}>
                    <td>{w.workerId}</td>
                    <td>{w.instanceId}</td>
                    <td>
                      <meter min={0} max={1} value={w.load} title={`${Math.round(w.load * 100)}%`} /> {Math.round(w.load * 100)}%
                    </td>
                    <td>
                      {w.busySlots}/{w.slots}
                    </td>
                    <td>{count(w.partsDone)}</td>
                    <td>{count(w.partsFailed)}</td>
                    <td>{time(w.startedAt)}</td>
                    <td>{time(w.lastSeenAt)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
            {(d.workers ?? []).length === 0 ? <p>No worker up.</p> : null}
          </Section>
        </>
      ) : null}
    </>
  );
}
