import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState, type ChangeEvent, type FormEvent } from 'react';
import { Field } from '../forms/Field.js';
import { errorMessage, serverFieldErrors, useTRPC } from '../trpc.js';

type Errors = Record<string, string[]>;
const err = (e: Errors, k: string) => e[k]?.join(' ');
const day = (iso: string) => iso.slice(0, 10);

/** "Expired" / "Expires soon" (within 30 days: the guide's alarm) beside the guide's status text. */
function ExpiryBadge({ expiry, status }: { expiry: 'ok' | 'expiring' | 'expired'; status: string }) {
  if (expiry === 'expired') return <span className="badge off">Expired</span>;
  if (expiry === 'expiring')
    return (
      <span className="badge" style={{ background: '#fff1d6', color: '#8a5a00' }} title={status}>
        Expires soon
      </span>
    );
  return <span className={status === 'Good' ? 'badge ok' : 'badge'}>{status}</span>;
}

/** A PEM textarea with a file picker that loads the file's text into it (.crt, .pem, .key). */
function PemInput({ id, value, onChange, accept = '.crt,.pem,.cer,.key,.txt' }: { id: string; value: string; onChange: (v: string) => void; accept?: string }) {
  const load = async (e: ChangeEvent<HTMLInputElement>) => {
    const file = e.target.files?.[0];
    if (file) onChange(await file.text());
  };
  return (
    <>
      <textarea id={id} rows={6} spellCheck={false} value={value} onChange={(e) => onChange(e.target.value)} style={{ fontFamily: 'monospace', width: '100%' }} />
      <input type="file" accept={accept} aria-label={`Choose file for ${id}`} onChange={(e) => void load(e)} />
    </>
  );
}

function useFormState() {
  const [errors, setErrors] = useState<Errors>({});
  const [formError, setFormError] = useState('');
  const onError = (e: unknown) => {
    const fields = serverFieldErrors(e);
    setErrors(fields);
    setFormError(Object.keys(fields).length ? '' : errorMessage(e));
  };
  const reset = () => {
    setErrors({});
    setFormError('');
  };
  return { errors, setErrors, formError, onError, reset };
}

const EMPTY_UPLOAD = { certificate: '', private_key: '', private_key_passphrase: '', parameters: '' };

/** Platform > TLS Certificates: list with status, upload, generate self-signed, node assignment, delete. */
export function TlsCertificatesPage() {
  const trpc = useTRPC();
  const qc = useQueryClient();
  const list = useQuery(trpc.certificate.tls.list.queryOptions({}));
  const nodes = useQuery(trpc.node.list.queryOptions());
  const refresh = () => qc.invalidateQueries({ queryKey: trpc.certificate.pathKey() });
  const nodeName = (id: number) => nodes.data?.find((n) => n.id === id)?.name ?? `#${id}`;

  const [upload, setUpload] = useState(EMPTY_UPLOAD);
  const [uploadNodes, setUploadNodes] = useState<number[]>([]);
  const up = useFormState();
  const create = useMutation(
    trpc.certificate.tls.create.mutationOptions({
      onSuccess: async () => {
        setUpload(EMPTY_UPLOAD);
        setUploadNodes([]);
        up.reset();
        await refresh();
      },
      onError: up.onError,
    }),
  );

  const [gen, setGen] = useState({ common_name: '', subject_alt_names: '', days: '365' });
  const gf = useFormState();
  const generate = useMutation(
    trpc.certificate.tls.generate.mutationOptions({
      onSuccess: async () => {
        setGen({ common_name: '', subject_alt_names: '', days: '365' });
        gf.reset();
        await refresh();
      },
      onError: gf.onError,
    }),
  );

  const [selected, setSelected] = useState<number | null>(null);
  const [assign, setAssign] = useState<number[]>([]);
  const af = useFormState();
  const update = useMutation(trpc.certificate.tls.update.mutationOptions({ onSuccess: async () => (af.reset(), await refresh()), onError: af.onError }));
  const remove = useMutation(trpc.certificate.tls.delete.mutationOptions({ onSuccess: async () => (setSelected(null), await refresh()) }));
  const current = list.data?.find((c) => c.id === selected) ?? null;

  const toggle = (ids: number[], id: number) => (ids.includes(id) ? ids.filter((x) => x !== id) : [...ids, id]);
  const nodeChoices = (chosen: number[], set: (ids: number[]) => void, prefix: string) =>
    nodes.data?.length ? (
      <fieldset>
        <legend>Nodes</legend>
        {nodes.data.map((n) => (
          <label key={n.id} htmlFor={`${prefix}-node-${n.id}`} style={{ display: 'block' }}>
            <input id={`${prefix}-node-${n.id}`} type="checkbox" checked={chosen.includes(n.id)} onChange={() => set(toggle(chosen, n.id))} /> {n.name}
          </label>
        ))}
      </fieldset>
    ) : (
      <p className="hint">No Conferencing Nodes yet: the certificate can be assigned to nodes later.</p>
    );

  return (
    <section>
      <h1>TLS certificates</h1>
      {list.error && <p role="alert">{errorMessage(list.error)}</p>}
      {remove.error && <p role="alert">{errorMessage(remove.error)}</p>}
      <table>
        <thead>
          <tr>
            <th>Subject name</th>
            <th>Issuer</th>
            <th>Nodes</th>
            <th>Valid until</th>
            <th>Status</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {list.data?.map((c) => (
            <tr key={c.id}>
              <td>
                <button
                  type="button"
                  className="link"
                  onClick={() => {
                    setSelected(c.id);
                    setAssign(c.nodes);
                    af.reset();
                  }}
                >
                  {c.subject_name || '(empty subject)'}
                </button>
              </td>
              <td>{c.issuer_name}</td>
              <td>{c.nodes.map(nodeName).join(', ')}</td>
              <td>{day(c.end_date)}</td>
              <td>
                <ExpiryBadge expiry={c.expiry} status={c.status} />
              </td>
              <td>
                <button type="button" className="danger" onClick={() => window.confirm(`Delete the TLS certificate "${c.subject_name}"?`) && remove.mutate({ id: c.id })}>
                  Delete
                </button>
              </td>
            </tr>
          ))}
          {list.data?.length === 0 && (
            <tr>
              <td colSpan={6}>No TLS certificates have been uploaded.</td>
            </tr>
          )}
        </tbody>
      </table>

      {current && (
        <div className="card">
          <h2>{current.subject_name}</h2>
          <p>
            <ExpiryBadge expiry={current.expiry} status={current.status} /> Valid from {day(current.start_date)} to {day(current.end_date)}
          </p>
          <pre style={{ whiteSpace: 'pre-wrap', fontSize: '.8rem' }}>{current.text}</pre>
          {current.chain.length > 0 && (
            <>
              <h3>Chain of trust</h3>
              <ul>
                {current.chain.map((c, i) => (
                  <li key={i}>
                    {c.subject_name} (issued by {c.issuer_name}, valid until {day(c.end_date)})
                  </li>
                ))}
              </ul>
            </>
          )}
          <form
            className="form"
            noValidate
            onSubmit={(e: FormEvent) => {
              e.preventDefault();
              update.mutate({ id: current.id, patch: { nodes: assign } });
            }}
          >
            {nodeChoices(assign, setAssign, 'assign')}
            <p className="hint">Assigning a certificate to a node replaces the node's previous certificate.</p>
            {err(af.errors, 'nodes') && <p role="alert" className="field-error">{err(af.errors, 'nodes')}</p>}
            {af.formError && <p role="alert" className="form-error">{af.formError}</p>}
            <div className="actions">
              <button type="submit">Save</button>
              <button type="button" className="secondary" onClick={() => setSelected(null)}>
                Close
              </button>
            </div>
          </form>
        </div>
      )}

      <form
        className="card form"
        noValidate
        onSubmit={(e: FormEvent) => {
          e.preventDefault();
          create.mutate({ ...upload, nodes: uploadNodes });
        }}
      >
        <h2>Add TLS certificate</h2>
        <Field id="tls-certificate" label="TLS certificate" error={err(up.errors, 'certificate')} hint="PEM: the certificate from the Certificate Authority (.CRT or .PEM), not the CSR; intermediates may follow it.">
          <PemInput id="tls-certificate" value={upload.certificate} onChange={(v) => setUpload({ ...upload, certificate: v })} />
        </Field>
        <Field id="tls-private-key" label="Private key" error={err(up.errors, 'private_key')} hint="PEM: RSA or ECDSA.">
          <PemInput id="tls-private-key" value={upload.private_key} onChange={(v) => setUpload({ ...upload, private_key: v })} />
        </Field>
        <Field id="tls-passphrase" label="Private key passphrase" error={err(up.errors, 'private_key_passphrase')} hint="If the private key is encrypted.">
          <input id="tls-passphrase" type="password" autoComplete="off" value={upload.private_key_passphrase} onChange={(e) => setUpload({ ...upload, private_key_passphrase: e.target.value })} />
        </Field>
        <Field id="tls-parameters" label="TLS parameters" error={err(up.errors, 'parameters')} hint="Optional: PEM DH parameters and/or EC curve name.">
          <PemInput id="tls-parameters" value={upload.parameters} onChange={(v) => setUpload({ ...upload, parameters: v })} />
        </Field>
        {nodeChoices(uploadNodes, setUploadNodes, 'upload')}
        {err(up.errors, 'nodes') && <p role="alert" className="field-error">{err(up.errors, 'nodes')}</p>}
        {up.formError && <p role="alert" className="form-error">{up.formError}</p>}
        <div className="actions">
          <button type="submit" disabled={create.isPending}>
            Save
          </button>
        </div>
      </form>

      <form
        className="card form"
        noValidate
        onSubmit={(e: FormEvent) => {
          e.preventDefault();
          const days = Number(gen.days);
          if (gen.days.trim() === '' || !Number.isInteger(days)) return gf.setErrors({ days: ['Enter a whole number.'] });
          generate.mutate({
            common_name: gen.common_name,
            subject_alt_names: gen.subject_alt_names.split(',').map((s) => s.trim()).filter(Boolean),
            days,
          });
        }}
      >
        <h2>Generate self-signed certificate</h2>
        <p className="hint">A temporary certificate (RSA 2048, SHA-256) that clients will not trust; replace it with one from a Certificate Authority.</p>
        <Field id="gen-common-name" label="Common name" error={err(gf.errors, 'common_name')} hint="The node's FQDN, e.g. px01.vc.example.com.">
          <input id="gen-common-name" value={gen.common_name} onChange={(e) => setGen({ ...gen, common_name: e.target.value })} />
        </Field>
        <Field id="gen-sans" label="Subject alternative names" error={err(gf.errors, 'subject_alt_names')} hint="Comma-separated; the common name is always included.">
          <input id="gen-sans" value={gen.subject_alt_names} onChange={(e) => setGen({ ...gen, subject_alt_names: e.target.value })} />
        </Field>
        <Field id="gen-days" label="Validity (days)" error={err(gf.errors, 'days')} hint="1–825">
          <input id="gen-days" type="number" value={gen.days} onChange={(e) => setGen({ ...gen, days: e.target.value })} />
        </Field>
        {gf.formError && <p role="alert" className="form-error">{gf.formError}</p>}
        <div className="actions">
          <button type="submit" disabled={generate.isPending}>
            Generate
          </button>
        </div>
      </form>
    </section>
  );
}

/** Platform > Trusted CA Certificates: the custom CA list (in addition to the built-in Mozilla store), import, delete. */
export function CaCertificatesPage() {
  const trpc = useTRPC();
  const qc = useQueryClient();
  const list = useQuery(trpc.certificate.ca.list.queryOptions({}));
  const refresh = () => qc.invalidateQueries({ queryKey: trpc.certificate.pathKey() });
  const [pem, setPem] = useState('');
  const [done, setDone] = useState('');
  const f = useFormState();
  const create = useMutation(
    trpc.certificate.ca.create.mutationOptions({
      onSuccess: async (added) => {
        setPem('');
        f.reset();
        setDone(`${added.length} trusted CA certificate${added.length === 1 ? '' : 's'} imported.`);
        await refresh();
      },
      onError: (e) => {
        setDone('');
        f.onError(e);
      },
    }),
  );
  const remove = useMutation(trpc.certificate.ca.delete.mutationOptions({ onSuccess: refresh }));

  return (
    <section>
      <h1>Trusted CA certificates</h1>
      <p className="hint">Used in addition to the built-in list of trusted CA certificates. Upload intermediate CA certificates here so the chain of trust is presented to SIP TLS clients.</p>
      {list.error && <p role="alert">{errorMessage(list.error)}</p>}
      {remove.error && <p role="alert">{errorMessage(remove.error)}</p>}
      <table>
        <thead>
          <tr>
            <th>Subject name</th>
            <th>Issuer</th>
            <th>Valid until</th>
            <th>Status</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {list.data?.map((c) => (
            <tr key={c.id}>
              <td title={c.raw_subject}>{c.subject_name}</td>
              <td title={c.raw_issuer}>{c.issuer_name}</td>
              <td>{day(c.end_date)}</td>
              <td>
                <ExpiryBadge expiry={c.expiry} status={c.expiry === 'ok' ? 'Good' : c.status} />
              </td>
              <td>
                <button type="button" className="danger" onClick={() => window.confirm(`Delete the trusted CA certificate "${c.subject_name}"?`) && remove.mutate({ id: c.id })}>
                  Delete
                </button>
              </td>
            </tr>
          ))}
          {list.data?.length === 0 && (
            <tr>
              <td colSpan={5}>No custom trusted CA certificates have been uploaded.</td>
            </tr>
          )}
        </tbody>
      </table>
      <form
        className="card form"
        noValidate
        onSubmit={(e: FormEvent) => {
          e.preventDefault();
          create.mutate({ certificate: pem });
        }}
      >
        <h2>Import trusted CA certificates</h2>
        <Field id="ca-certificate" label="Trusted CA certificates" error={err(f.errors, 'certificate')} hint="PEM; several certificates one after the other.">
          <PemInput id="ca-certificate" value={pem} onChange={setPem} accept=".crt,.pem,.cer,.txt" />
        </Field>
        {f.formError && <p role="alert" className="form-error">{f.formError}</p>}
        {done && <p role="status">{done}</p>}
        <div className="actions">
          <button type="submit" disabled={create.isPending}>
            Import
          </button>
        </div>
      </form>
    </section>
  );
}
