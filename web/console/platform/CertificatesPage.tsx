import { zodResolver } from '@hookform/resolvers/zod';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState, type ChangeEvent } from 'react';
import { Controller, useForm, type Control, type FieldPath, type FieldValues } from 'react-hook-form';
import { z } from 'zod';
import {
  caCertificateCreateSchema,
  tlsCertificateCreateSchema,
  tlsCertificateGenerateSchema,
  tlsCertificatePatchSchema,
} from '../../../shared/certificate/certificate.schema.js';
import { Field } from '../forms/Field.js';
import { CheckboxSet, FormFooter } from '../forms/FormParts.js';
import { useServerErrors } from '../forms/useServerErrors.js';
import { errorMessage, useTRPC, type RouterOutputs } from '../trpc.js';

const day = (iso: string) => iso.slice(0, 10);
// The server names a node's error `nodes.<i>`; the form shows it under the set.
const nodesField = (f: string) => (f.startsWith('nodes') ? 'nodes' : f);

/** "Expired" / "Expires soon" (within 30 days: the guide's alarm) beside the guide's status text. */
function ExpiryBadge({ expiry, status }: { expiry: 'ok' | 'expiring' | 'expired'; status: string }) {
  if (expiry === 'expired') return <span className="badge off">Expired</span>;
  if (expiry === 'expiring')
    return (
      <span className="badge soon" title={status}>
        Expires soon
      </span>
    );
  return <span className={status === 'Good' ? 'badge ok' : 'badge'}>{status}</span>;
}

/** A PEM textarea with a file picker that loads the file's text into it (.crt, .pem, .key). */
function PemInput<T extends FieldValues>({
  id,
  name,
  control,
  accept = '.crt,.pem,.cer,.key,.txt',
}: {
  id: string;
  name: FieldPath<T>;
  control: Control<T>;
  accept?: string;
}) {
  return (
    <Controller
      control={control}
      name={name}
      render={({ field }) => {
        const load = async (e: ChangeEvent<HTMLInputElement>) => {
          const file = e.target.files?.[0];
          if (file) field.onChange(await file.text());
        };
        return (
          <>
            <textarea id={id} className="pem" rows={6} spellCheck={false} value={field.value ?? ''} onChange={field.onChange} onBlur={field.onBlur} />
            <input type="file" accept={accept} aria-label={`Choose file for ${id}`} onChange={(e) => void load(e)} />
          </>
        );
      }}
    />
  );
}

/** The Conferencing Nodes a certificate is assigned to, as a set of checkboxes. */
function NodeChoices<T extends FieldValues & { nodes?: number[] }>({ control, prefix, error }: { control: Control<T>; prefix: string; error?: string }) {
  const trpc = useTRPC();
  const nodes = useQuery(trpc.node.list.queryOptions());
  if (!nodes.data?.length) return <p className="hint">No Conferencing Nodes yet: the certificate can be assigned to nodes later.</p>;
  return (
    <Controller
      control={control}
      name={'nodes' as FieldPath<T>}
      render={({ field }) => (
        <CheckboxSet
          legend="Nodes"
          className="nodes"
          idPrefix={`${prefix}-node`}
          options={nodes.data.map((n) => ({ value: n.id, label: n.name }))}
          value={(field.value as number[] | undefined) ?? []}
          onChange={field.onChange}
          error={error}
        />
      )}
    />
  );
}

type UploadForm = z.input<typeof tlsCertificateCreateSchema>;
type UploadValues = z.output<typeof tlsCertificateCreateSchema>;
const EMPTY_UPLOAD: UploadForm = { certificate: '', private_key: '', private_key_passphrase: '', parameters: '', nodes: [] };

/** Add TLS certificate: PEM certificate and key (pasted or loaded from files), passphrase, parameters, nodes. */
function TlsUploadForm({ onSaved }: { onSaved: () => Promise<unknown> }) {
  const trpc = useTRPC();
  const { register, handleSubmit, formState, setError, reset, control } = useForm<UploadForm, unknown, UploadValues>({
    resolver: zodResolver(tlsCertificateCreateSchema),
    defaultValues: EMPTY_UPLOAD,
  });
  const onError = useServerErrors(setError, nodesField);
  const create = useMutation(trpc.certificate.tls.create.mutationOptions({ onSuccess: async () => (reset(EMPTY_UPLOAD), await onSaved()), onError }));
  const e = formState.errors;
  return (
    <form className="card form" noValidate onSubmit={handleSubmit((v) => create.mutate(v))}>
      <h2>Add TLS certificate</h2>
      <Field
        id="tls-certificate"
        label="TLS certificate"
        error={e.certificate?.message}
        hint="PEM: the certificate from the Certificate Authority (.CRT or .PEM), not the CSR; intermediates may follow it."
      >
        <PemInput id="tls-certificate" name="certificate" control={control} />
      </Field>
      <Field id="tls-private-key" label="Private key" error={e.private_key?.message} hint="PEM: RSA or ECDSA.">
        <PemInput id="tls-private-key" name="private_key" control={control} />
      </Field>
      <Field id="tls-passphrase" label="Private key passphrase" error={e.private_key_passphrase?.message} hint="If the private key is encrypted.">
        <input id="tls-passphrase" type="password" autoComplete="off" {...register('private_key_passphrase')} />
      </Field>
      <Field id="tls-parameters" label="TLS parameters" error={e.parameters?.message} hint="Optional: PEM DH parameters and/or EC curve name.">
        <PemInput id="tls-parameters" name="parameters" control={control} />
      </Field>
      <NodeChoices control={control} prefix="upload" error={e.nodes?.message} />
      <FormFooter rootError={e.root?.message} canSave pending={create.isPending} />
    </form>
  );
}

/** Generate: the shared schema, with the subject alternative names typed as one comma-separated line. */
const generateForm = tlsCertificateGenerateSchema.extend({
  subject_alt_names: z
    .string()
    .transform((v) =>
      v
        .split(',')
        .map((x) => x.trim())
        .filter(Boolean),
    )
    .pipe(tlsCertificateGenerateSchema.shape.subject_alt_names.unwrap()),
  // An empty number input reads as NaN.
  days: z.number({ error: 'Enter a whole number.' }).pipe(tlsCertificateGenerateSchema.shape.days.unwrap()),
});
type GenerateForm = z.input<typeof generateForm>;
type GenerateValues = z.output<typeof generateForm>;
const EMPTY_GENERATE: GenerateForm = { common_name: '', subject_alt_names: '', days: 365 };

function GenerateForm({ onSaved }: { onSaved: () => Promise<unknown> }) {
  const trpc = useTRPC();
  const { register, handleSubmit, formState, setError, reset } = useForm<GenerateForm, unknown, GenerateValues>({
    resolver: zodResolver(generateForm),
    defaultValues: EMPTY_GENERATE,
  });
  const onError = useServerErrors(setError, nodesField);
  const generate = useMutation(trpc.certificate.tls.generate.mutationOptions({ onSuccess: async () => (reset(EMPTY_GENERATE), await onSaved()), onError }));
  const e = formState.errors;
  return (
    <form className="card form" noValidate onSubmit={handleSubmit((v) => generate.mutate(v))}>
      <h2>Generate self-signed certificate</h2>
      <p className="hint">A temporary certificate (RSA 2048, SHA-256) that clients will not trust; replace it with one from a Certificate Authority.</p>
      <Field id="gen-common-name" label="Common name" error={e.common_name?.message} hint="The node's FQDN, e.g. px01.vc.example.com.">
        <input id="gen-common-name" {...register('common_name')} />
      </Field>
      <Field id="gen-sans" label="Subject alternative names" error={e.subject_alt_names?.message} hint="Comma-separated; the common name is always included.">
        <input id="gen-sans" {...register('subject_alt_names')} />
      </Field>
      <Field id="gen-days" label="Validity (days)" error={e.days?.message} hint="1–825">
        <input id="gen-days" type="number" {...register('days', { valueAsNumber: true })} />
      </Field>
      <FormFooter rootError={e.root?.message} canSave pending={generate.isPending} saveLabel="Generate" />
    </form>
  );
}

type Certificate = RouterOutputs['certificate']['tls']['list'][number];
const assignForm = tlsCertificatePatchSchema.pick({ nodes: true });
type AssignForm = z.input<typeof assignForm>;

/** One certificate: its text, chain of trust and the nodes it is assigned to. */
function CertificateDetails({ current, onSaved, onClose }: { current: Certificate; onSaved: () => Promise<unknown>; onClose: () => void }) {
  const trpc = useTRPC();
  const { handleSubmit, formState, setError, control } = useForm<AssignForm>({ resolver: zodResolver(assignForm), defaultValues: { nodes: current.nodes } });
  const onError = useServerErrors(setError, nodesField);
  const update = useMutation(trpc.certificate.tls.update.mutationOptions({ onSuccess: onSaved, onError }));
  const e = formState.errors;
  return (
    <div className="card">
      <h2>{current.subject_name}</h2>
      <p>
        <ExpiryBadge expiry={current.expiry} status={current.status} /> Valid from {day(current.start_date)} to {day(current.end_date)}
      </p>
      <pre className="certificate-text">{current.text}</pre>
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
      <form className="form" noValidate onSubmit={handleSubmit((v) => update.mutate({ id: current.id, patch: v }))}>
        <NodeChoices control={control} prefix="assign" error={e.nodes?.message} />
        <p className="hint">Assigning a certificate to a node replaces the node's previous certificate.</p>
        <FormFooter rootError={e.root?.message} canSave pending={update.isPending}>
          <button type="button" className="secondary" onClick={onClose}>
            Close
          </button>
        </FormFooter>
      </form>
    </div>
  );
}

/** Platform > TLS Certificates: list with status, upload, generate self-signed, node assignment, delete. */
export function TlsCertificatesPage() {
  const trpc = useTRPC();
  const qc = useQueryClient();
  const list = useQuery(trpc.certificate.tls.list.queryOptions({}));
  const nodes = useQuery(trpc.node.list.queryOptions());
  const refresh = () => qc.invalidateQueries({ queryKey: trpc.certificate.pathKey() });
  const nodeName = (id: number) => nodes.data?.find((n) => n.id === id)?.name ?? `#${id}`;
  const [selected, setSelected] = useState<number | null>(null);
  const remove = useMutation(trpc.certificate.tls.delete.mutationOptions({ onSuccess: async () => (setSelected(null), await refresh()) }));
  const current = list.data?.find((c) => c.id === selected) ?? null;

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
                <button type="button" className="link" onClick={() => setSelected(c.id)}>
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
                <button
                  type="button"
                  className="danger"
                  onClick={() => window.confirm(`Delete the TLS certificate "${c.subject_name}"?`) && remove.mutate({ id: c.id })}
                >
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
      {current && <CertificateDetails key={current.id} current={current} onSaved={refresh} onClose={() => setSelected(null)} />}
      <TlsUploadForm onSaved={refresh} />
      <GenerateForm onSaved={refresh} />
    </section>
  );
}

type CaForm = z.input<typeof caCertificateCreateSchema>;
type CaValues = z.output<typeof caCertificateCreateSchema>;

function CaImportForm({ onSaved }: { onSaved: () => Promise<unknown> }) {
  const trpc = useTRPC();
  const [done, setDone] = useState('');
  const { handleSubmit, formState, setError, reset, control } = useForm<CaForm, unknown, CaValues>({
    resolver: zodResolver(caCertificateCreateSchema),
    defaultValues: { certificate: '' },
  });
  const onError = useServerErrors(setError);
  const create = useMutation(
    trpc.certificate.ca.create.mutationOptions({
      onSuccess: async (added) => {
        reset({ certificate: '' });
        setDone(`${added.length} trusted CA certificate${added.length === 1 ? '' : 's'} imported.`);
        await onSaved();
      },
      onError,
    }),
  );
  const e = formState.errors;
  return (
    <form className="card form" noValidate onSubmit={handleSubmit((v) => (setDone(''), create.mutate(v)))}>
      <h2>Import trusted CA certificates</h2>
      <Field id="ca-certificate" label="Trusted CA certificates" error={e.certificate?.message} hint="PEM; several certificates one after the other.">
        <PemInput id="ca-certificate" name="certificate" control={control} accept=".crt,.pem,.cer,.txt" />
      </Field>
      {done && <p role="status">{done}</p>}
      <FormFooter rootError={e.root?.message} canSave pending={create.isPending} saveLabel="Import" />
    </form>
  );
}

/** Platform > Trusted CA Certificates: the custom CA list (in addition to the built-in Mozilla store), import, delete. */
export function CaCertificatesPage() {
  const trpc = useTRPC();
  const qc = useQueryClient();
  const list = useQuery(trpc.certificate.ca.list.queryOptions({}));
  const refresh = () => qc.invalidateQueries({ queryKey: trpc.certificate.pathKey() });
  const remove = useMutation(trpc.certificate.ca.delete.mutationOptions({ onSuccess: refresh }));

  return (
    <section>
      <h1>Trusted CA certificates</h1>
      <p className="hint">
        Used in addition to the built-in list of trusted CA certificates. Upload intermediate CA certificates here so the chain of trust is presented to SIP TLS
        clients.
      </p>
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
                <button
                  type="button"
                  className="danger"
                  onClick={() => window.confirm(`Delete the trusted CA certificate "${c.subject_name}"?`) && remove.mutate({ id: c.id })}
                >
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
      <CaImportForm onSaved={refresh} />
    </section>
  );
}
