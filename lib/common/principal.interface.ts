/** Who makes a request, as returned by `getPrincipal` (by default `req.user`). */
export interface Principal {
  id: string;
  roles?: readonly string[];
  permissions?: readonly string[];
}
