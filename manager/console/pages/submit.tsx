import { useEffect, useRef, useState } from 'preact/hooks';
import { api, uploadFile, type Problem } from '../api';
import { ErrorNote, Head, Section } from '../components';
import { bytes, time } from '../format';
import { go, usePoll } from '../hooks';
import type { Schedule } from '../types';

interface Validation {
  valid: boolean;
  problems: Problem[];
  name?: string;
  stages?: { id: string; task: string; needs: string[]; chain: string }[];
}

const EXAMPLE = ['apiVersion: batchgrid/v1', 'kind: Pipeline', 'name: upper', 'input:', '  split: { by: lines, size: 10 }', 'stages:', '  - id: upper', '    task: lines.upper', ''].join('\n');

/** A new job id, time-sortable like the server's: the files upload under it before the job is submitted. */
function newJobId(): string {
  const t = new Date().toISOString().replace(/\D/g, '').slice(0, 14);
  const r = Array.from(crypto.getRandomValues(new Uint8Array(4)), (b) => b.toString(16).padStart(2, '0')).join('');
  return `${t}-${r}`;
}

/** The file's path under the chosen folder, without the folder itself (webkitRelativePath is `folder/a/b.csv`). */
const relativePath = (f: File) => (f.webkitRelativePath ? f.webkitRelativePath.split('/').slice(1).join('/') : f.name);

function Problems({ problems }: { problems: Problem[] }) {
  return (
    <ul class="problems" role="alert" aria-label="problems">
      {problems.map((p) => (
        <li key={p.path + p.message}>
          <code>{p.path || '(pipeline)'}</code>
          {p.line !== undefined ? <span class="line"> line {p.line}</span> : null}: {p.message}
        </li>
      ))}
    </ul>
  );
}

function Schedules({ pipeline, input }: { pipeline: string; input: string }) {
  const list = usePoll(() => api<{ schedules: Schedule[] }>('GET', '/v1/schedules'), 'schedules', { intervalMs: 5000 });
  const [form, setForm] = useState({ scheduleId: '', cron: '0 3 * * *', timezone: Intl.DateTimeFormat().resolvedOptions().timeZone });
  const [error, setError] = useState<Error>();
  const create = async (e: Event) => {
    e.preventDefault();
    setError(undefined);
    try {
      await api('POST', '/v1/schedules', { ...form, pipeline, input });
      list.refresh();
    } catch (err) {
      setError(err as Error);
    }
  };
  const remove = async (id: string) => {
    if (!confirm(`Delete schedule ${id}? Jobs it started are left alone.`)) return;
    await api('DELETE', `/v1/schedules/${id}`).catch((err: Error) => setError(err));
    list.refresh();
  };
  const field = (name: keyof typeof form, label: string) => (
    <label>
      {label}
      <input name={`schedule-${name}`} value={form[name]} onInput={(e) => setForm({ ...form, [name]: e.currentTarget.value })} required />
    </label>
  );
  return (
    <Section title="Schedules">
      <table>
        <Head cols={['Schedule', 'Cron', 'Input', 'Next run', 'Recent jobs', '']} />
        <tbody>
          {(list.data?.schedules ?? []).map((s) => (
            <tr key={s.scheduleId}>
              <td>{s.scheduleId}</td>
              <td>
                <code>{s.cron}</code>
                {s.paused ? ' (paused)' : ''}
              </td>
              <td>{s.input}</td>
              <td>{time(s.nextRunAt[0])}</td>
              <td>
                {s.recentJobIds.map((j) => (
                  <a key={j} href={`#/jobs/${j}`}>
                    {j}{' '}
                  </a>
                ))}
              </td>
              <td>
                <button type="button" onClick={() => remove(s.scheduleId)}>
                  Delete
                </button>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <form class="filters" onSubmit={create} aria-label="new schedule">
        {field('scheduleId', 'Schedule id')}
        {field('cron', 'Cron (5 fields)')}
        {field('timezone', 'Time zone')}
        <button type="submit">Create schedule (pipeline and S3 input above)</button>
      </form>
      <ErrorNote error={error} />
    </Section>
  );
}

/** Submit a pipeline: its problems shown as you type, input uploaded from a folder (or an S3 URL), priority and start time. */
export function SubmitPage() {
  const [text, setText] = useState(EXAMPLE);
  const [validation, setValidation] = useState<Validation>();
  const [files, setFiles] = useState<File[]>([]);
  const [s3Input, setS3Input] = useState('');
  const [priority, setPriority] = useState('');
  const [startAt, setStartAt] = useState('');
  const [sent, setSent] = useState<{ bytes: number; total: number; file?: string }>();
  const [error, setError] = useState<Error>();
  const [busy, setBusy] = useState(false);
  const seq = useRef(0);

  useEffect(() => {
    const mine = ++seq.current;
    const timer = setTimeout(async () => {
      const v = await api<Validation>('POST', '/v1/pipelines/validate', { pipeline: text }).catch((err: Error) => ({ valid: false, problems: [{ path: '', message: err.message }] }));
      if (mine === seq.current) setValidation(v);
    }, 300);
    return () => clearTimeout(timer);
  }, [text]);

  const pickFile = async (e: Event) => {
    const f = (e.currentTarget as HTMLInputElement).files?.[0];
    if (f) setText(await f.text());
  };

  const submit = async (e: Event) => {
    e.preventDefault();
    setError(undefined);
    setBusy(true);
    try {
      const jobId = newJobId();
      let input = s3Input.trim();
      if (files.length > 0) {
        const total = files.reduce((n, f) => n + f.size, 0);
        let done = 0;
        for (const f of files) {
          const path = relativePath(f);
          const r = await uploadFile(jobId, path, f, (b) => setSent({ bytes: done + b, total, file: path }));
          done += f.size;
          setSent({ bytes: done, total, file: path });
          input = r.input;
        }
      }
      if (!input) throw new Error('Choose an input folder to upload, or give an s3:// input.');
      const body: Record<string, unknown> = { pipeline: text, input, jobId };
      if (priority.trim()) body.priority = Number(priority);
      if (startAt) body.startAt = new Date(startAt).toISOString();
      const r = await api<{ jobId: string }>('POST', '/v1/jobs', body);
      go(`jobs/${r.jobId}`);
    } catch (err) {
      setError(err as Error);
    } finally {
      setBusy(false);
    }
  };

  return (
    <>
      <h1>Submit a job</h1>
      <form class="submit" onSubmit={submit} aria-label="submit a job">
        <label>
          Pipeline file <input type="file" name="pipeline-file" accept=".yaml,.yml,.json" onChange={pickFile} />
        </label>
        <label for="pipeline">Pipeline (YAML or JSON)</label>
        <textarea id="pipeline" name="pipeline" rows={16} spellcheck={false} value={text} onInput={(e) => setText(e.currentTarget.value)} />
        <div class="validation" aria-live="polite">
          {validation?.valid ? (
            <p class="ok">
              Valid: pipeline <strong>{validation.name}</strong>, stages {validation.stages?.map((s) => s.id).join(' → ')}
            </p>
          ) : validation ? (
            <Problems problems={validation.problems} />
          ) : null}
        </div>
        <fieldset>
          <legend>Input</legend>
          <label>
            Upload a folder{' '}
            <input type="file" name="input-folder" multiple {...{ webkitdirectory: '' }} onChange={(e) => setFiles(Array.from(e.currentTarget.files ?? []))} />
          </label>
          <label>
            or files <input type="file" name="input-files" multiple onChange={(e) => setFiles(Array.from(e.currentTarget.files ?? []))} />
          </label>
          {files.length ? (
            <p>
              {files.length} file{files.length === 1 ? '' : 's'}, {bytes(files.reduce((n, f) => n + f.size, 0))}
            </p>
          ) : null}
          <label>
            or an S3 input <input name="s3-input" placeholder="s3://bucket/prefix/" value={s3Input} onInput={(e) => setS3Input(e.currentTarget.value)} />
          </label>
          {sent ? (
            <p>
              <progress max={sent.total} value={sent.bytes} aria-label="upload progress" /> {bytes(sent.bytes)} of {bytes(sent.total)} {sent.file ? `(${sent.file})` : ''}
            </p>
          ) : null}
        </fieldset>
        <label>
          Priority (1–100; empty: the pipeline's, else 1){' '}
          <input name="priority" type="number" min={1} max={100} value={priority} onInput={(e) => setPriority(e.currentTarget.value)} />
        </label>
        <label>
          Start at (your time zone; empty: now) <input name="start-at" type="datetime-local" value={startAt} onInput={(e) => setStartAt(e.currentTarget.value)} />
        </label>
        <button type="submit" disabled={busy || !validation?.valid}>
          {busy ? 'Submitting…' : 'Submit'}
        </button>
        <ErrorNote error={error} />
      </form>
      <Schedules pipeline={text} input={s3Input} />
    </>
  );
}
