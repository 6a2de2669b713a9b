import { type FormEvent, useState } from 'react';
import type { FinetuneDataset } from '../../../src/gen/pixel/v1/finetunes_pb.ts';
import { errorText } from '../api.ts';
import { useApp } from '../hooks.ts';

/**
 * A new fine-tune dataset: 3–30 uploaded product photos (PNG, JPEG or WebP), or the team's accepted
 * catalogue images whose prompt contains some text. The server checks count, format, size and duplicates
 * and names the file at fault.
 */
export function DatasetForm({ onCreated }: { onCreated: (dataset: FinetuneDataset) => void }) {
  const { clients, session } = useApp();
  const [source, setSource] = useState<'upload' | 'catalog'>('upload');
  const [name, setName] = useState('');
  const [category, setCategory] = useState('');
  const [files, setFiles] = useState<File[]>([]);
  const [query, setQuery] = useState('');
  const [application, setApplication] = useState('');
  /** Bumped after a dataset is created, to clear the file input (a browser keeps its chosen files). */
  const [created, setCreated] = useState(0);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | undefined>();
  const canWrite = session.role !== 'viewer';

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      const dataset =
        source === 'upload'
          ? await clients.finetunes.createDataset({
              name,
              category,
              images: await Promise.all(
                files.map(async (f) => ({ file: f.name, content: new Uint8Array(await f.arrayBuffer()) })),
              ),
            })
          : await clients.finetunes.createDataset({
              name,
              category,
              fromCatalogQuery: query,
              ...(application && { application }),
            });
      setName('');
      setFiles([]);
      setQuery('');
      setCreated((n) => n + 1);
      onCreated(dataset);
    } catch (e) {
      setError(errorText(e));
    } finally {
      setBusy(false);
    }
  };

  return (
    <form onSubmit={submit} aria-labelledby="ds-new-h">
      <h3 id="ds-new-h">New dataset</h3>
      <fieldset className="segmented">
        <legend>Images from</legend>
        <label>
          <input
            type="radio"
            name="ds-source"
            checked={source === 'upload'}
            onChange={() => setSource('upload')}
          />
          Uploaded files
        </label>
        <label>
          <input
            type="radio"
            name="ds-source"
            checked={source === 'catalog'}
            onChange={() => setSource('catalog')}
          />
          Accepted catalogue images
        </label>
      </fieldset>
      <div className="row">
        <div className="field">
          <label htmlFor="ds-name">Dataset name</label>
          <input
            id="ds-name"
            required
            value={name}
            placeholder="ube-cakes"
            onChange={(e) => setName(e.target.value)}
          />
        </div>
        <div className="field">
          <label htmlFor="ds-category">Category</label>
          <input
            id="ds-category"
            required
            value={category}
            placeholder="bakery"
            onChange={(e) => setCategory(e.target.value)}
          />
        </div>
      </div>
      {source === 'upload' ? (
        <div className="field">
          <label htmlFor="ds-files">Product photos (3–30 PNG, JPEG or WebP)</label>
          <input
            key={created}
            id="ds-files"
            type="file"
            multiple
            accept="image/png,image/jpeg,image/webp"
            onChange={(e) => setFiles([...(e.target.files ?? [])])}
          />
          {files.length > 0 && (
            <span className="help">
              {files.length} file{files.length === 1 ? '' : 's'} chosen
            </span>
          )}
        </div>
      ) : (
        <div className="row">
          <div className="field grow">
            <label htmlFor="ds-query">Prompt contains</label>
            <input id="ds-query" required value={query} onChange={(e) => setQuery(e.target.value)} />
          </div>
          <div className="field">
            <label htmlFor="ds-app">
              Application <span className="required">(optional)</span>
            </label>
            <input id="ds-app" value={application} onChange={(e) => setApplication(e.target.value)} />
          </div>
        </div>
      )}
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
      <button type="submit" disabled={!canWrite || busy || (source === 'upload' && files.length === 0)}>
        {busy ? 'Creating…' : 'Create dataset'}
      </button>
    </form>
  );
}
