// Preact glue for the builder's editing model (state.js): a component that calls
// useBuilder(builder) re-renders after every change the model announces.
import { useEffect, useState } from 'preact/hooks';

export function useBuilder(builder) {
  const [, setVersion] = useState(0);
  useEffect(() => {
    if (!builder) return undefined;
    return builder.subscribe(() => setVersion((version) => version + 1));
  }, [builder]);
  return builder;
}
