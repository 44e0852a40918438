// EXCLUDED (react/**): old dashboard prototype, not part of the indexed code.
export function DashboardAppExcluded(): JSX.Element {
  return <div className="dashboard">cogo dashboard (excluded)</div>;
}
