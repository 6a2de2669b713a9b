import type { JsonValue } from '@bufbuild/protobuf';
import { ScrollBox } from './Scroll.tsx';

/** A JSON document, pretty-printed, in a collapsible block. */
export function JsonBlock({
  value,
  title,
  open,
}: {
  value: JsonValue | undefined;
  title: string;
  open?: boolean;
}) {
  return (
    <details className="json" open={open}>
      <summary>{title}</summary>
      <ScrollBox label={title}>
        <pre>{value === undefined ? '—' : JSON.stringify(value, null, 2)}</pre>
      </ScrollBox>
    </details>
  );
}
