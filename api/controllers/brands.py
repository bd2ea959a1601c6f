"""``/api/admin/brands`` and ``/api/admin/brands/{brand_id}/queries``."""

from __future__ import annotations

from uuid import UUID

import psycopg
from cronkeeper.api import cursors
from cronkeeper.api.auth import Access
from cronkeeper.api.params import (
    READ,
    WRITE,
    AccessDep,
    Cursor,
    IntPath,
    Limit,
    PoolDep,
    Search,
    UuidPath,
    int_param,
    page,
    search_param,
    uuid_param,
)
from cronkeeper.api.schemas import (
    BrandIn,
    BrandOut,
    BrandPage,
    BrandQueryIn,
    BrandQueryList,
    BrandQueryOut,
    BrandQueryUpdate,
    BrandUpdate,
    stripped,
)
from litestar import Controller, delete, get, post, put
from litestar.params import FromQuery, JSONBody

from cronkeeper.errors import NotFound, ValidationError
from cronkeeper.models import Brand
from cronkeeper.repo import brand_queries as queries_repo
from cronkeeper.repo import brands as brands_repo


def _brand(conn: psycopg.Connection, brand_id: str, access: Access) -> Brand:
    """The brand if this token may see it; else the same 404 as for none at all."""
    ident = uuid_param(brand_id, "brand_id")
    brand = brands_repo.get_brand(conn, ident, customer_id=access.customer_id)
    if brand is None:
        raise NotFound(f"no brand {ident}")
    return brand


def _names(values: list[str] | None, field: str) -> list[str]:
    return [stripped(v, field) for v in values or []]


class BrandController(Controller):
    path = "/brands"
    tags = ["brands"]

    @get("/", operation_id="listBrands", responses=READ, sync_to_thread=True)
    def list_brands(
        self,
        pool: PoolDep,
        access: AccessDep,
        customer_id: FromQuery[UUID | None] = None,
        search: Search = None,
        limit: Limit = 50,
        cursor: Cursor = None,
    ) -> BrandPage:
        """Brands by name (``search``: part of the name), keyset-paginated on (name, id)."""
        after, search = cursors.decode_name_id(cursor), search_param(search)
        with pool.connection() as conn:
            rows = brands_repo.list_brands_page(
                conn, customer_id=access.filter(customer_id), search=search, after=after, limit=limit + 1
            )
        rows, more = page(rows, limit)
        next_cursor = cursors.encode(rows[-1].name, rows[-1].id) if more else None
        return BrandPage(data=[BrandOut.of(b) for b in rows], next_cursor=next_cursor)

    @post("/", operation_id="createBrand", status_code=201, responses=WRITE, sync_to_thread=True)
    def create_brand(self, data: JSONBody[BrandIn], pool: PoolDep, access: AccessDep) -> BrandOut:
        values = data.given()
        customer_id = access.owner(values.get("customer_id"))
        if customer_id is None:
            raise ValidationError("customer_id is required", field="customer_id")
        name = stripped(values["name"], "name")
        aliases, competitors = _names(values.get("aliases"), "aliases"), _names(values.get("competitors"), "competitors")
        with pool.connection() as conn:
            brand = brands_repo.insert_brand(conn, customer_id, name, aliases, competitors)
        access.audit("brand_created", brand_id=brand.id, customer_id=customer_id)
        return BrandOut.of(brand)

    @get("/{brand_id:str}", operation_id="getBrand", responses=READ, sync_to_thread=True)
    def get_brand(self, brand_id: UuidPath, pool: PoolDep, access: AccessDep) -> BrandOut:
        with pool.connection() as conn:
            return BrandOut.of(_brand(conn, brand_id, access))

    @put("/{brand_id:str}", operation_id="updateBrand", responses=WRITE, sync_to_thread=True)
    def update_brand(self, brand_id: UuidPath, data: JSONBody[BrandUpdate], pool: PoolDep, access: AccessDep) -> BrandOut:
        """Change any subset of name, aliases and competitors."""
        changes = data.given()
        with pool.connection() as conn:
            brand = _brand(conn, brand_id, access)
            updated = brands_repo.update_brand(
                conn, brand.id,
                stripped(changes["name"], "name") if "name" in changes else brand.name,
                _names(changes["aliases"], "aliases") if "aliases" in changes else brand.aliases,
                _names(changes["competitors"], "competitors") if "competitors" in changes else brand.competitors,
            )  # fmt: skip
        if updated is None:
            raise NotFound(f"no brand {brand.id}")
        return BrandOut.of(updated)

    @delete("/{brand_id:str}", operation_id="deleteBrand", responses=WRITE, sync_to_thread=True)
    def delete_brand(self, brand_id: UuidPath, pool: PoolDep, access: AccessDep) -> None:
        """Delete the brand with its queries, jobs and runs."""
        ident = uuid_param(brand_id, "brand_id")
        with pool.connection() as conn:
            if not brands_repo.delete_brand(conn, ident, customer_id=access.customer_id):
                raise NotFound(f"no brand {ident}")
        access.audit("brand_deleted", brand_id=ident)


class BrandQueryController(Controller):
    path = "/brands/{brand_id:str}/queries"
    tags = ["brands"]

    @get("/", operation_id="listBrandQueries", responses=READ, sync_to_thread=True)
    def list_queries(
        self, brand_id: UuidPath, pool: PoolDep, access: AccessDep, active_only: FromQuery[bool] = False
    ) -> BrandQueryList:
        with pool.connection() as conn:
            brand = _brand(conn, brand_id, access)
            rows = queries_repo.list_queries(conn, brand.id, active_only=active_only)
        return BrandQueryList(data=[BrandQueryOut.of(q) for q in rows])

    @post("/", operation_id="createBrandQuery", status_code=201, responses=WRITE, sync_to_thread=True)
    def create_query(
        self, brand_id: UuidPath, data: JSONBody[BrandQueryIn], pool: PoolDep, access: AccessDep
    ) -> BrandQueryOut:
        values = data.given()
        text = stripped(values["text"], "text")
        with pool.connection() as conn:
            brand = _brand(conn, brand_id, access)
            return BrandQueryOut.of(queries_repo.insert_query(conn, brand.id, text, values.get("is_active", True)))

    @put("/{query_id:str}", operation_id="updateBrandQuery", responses=WRITE, sync_to_thread=True)
    def update_query(
        self, brand_id: UuidPath, query_id: IntPath, data: JSONBody[BrandQueryUpdate], pool: PoolDep, access: AccessDep
    ) -> BrandQueryOut:
        """Change the text, ``is_active`` or both."""
        ident, changes = int_param(query_id, "query_id"), data.given()
        with pool.connection() as conn:
            brand = _brand(conn, brand_id, access)
            current = queries_repo.get_query(conn, brand.id, ident)
            if current is None:
                raise NotFound(f"no query {ident} for brand {brand.id}")
            text = stripped(changes["text"], "text") if "text" in changes else current.text
            updated = queries_repo.update_query(
                conn, brand.id, ident, text, changes.get("is_active", current.is_active)
            )
        if updated is None:
            raise NotFound(f"no query {ident} for brand {brand.id}")
        return BrandQueryOut.of(updated)

    @delete("/{query_id:str}", operation_id="deleteBrandQuery", responses=WRITE, sync_to_thread=True)
    def delete_query(self, brand_id: UuidPath, query_id: IntPath, pool: PoolDep, access: AccessDep) -> None:
        ident = int_param(query_id, "query_id")
        with pool.connection() as conn:
            brand = _brand(conn, brand_id, access)
            if not queries_repo.delete_query(conn, brand.id, ident):
                raise NotFound(f"no query {ident} for brand {brand.id}")
