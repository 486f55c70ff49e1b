"""The JSON data formats of ETSI GS QKD 014 V1.1.1 clause 6, as pydantic models.

Field names follow the specification exactly (``key_ID``, ``additional_slave_SAE_IDs`` ...);
optional extension fields are omitted from responses when empty.

References
----------
ETSI GS QKD 014 V1.1.1 (2019-02), clauses 6.1 (Status), 6.2 (Key request), 6.3 (Key container),
6.4 (Key IDs), 6.5 (Error).
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, StrictInt, StrictStr

__all__ = ["ErrorBody", "Key", "KeyContainer", "KeyIDItem", "KeyIDs", "KeyRequest", "Status"]


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Status(_Spec):
    """Status data format (clause 6.1)."""

    source_KME_ID: str = Field(description="KME ID of the KME")
    target_KME_ID: str = Field(description="KME ID of the target KME")
    master_SAE_ID: str = Field(description="SAE ID of the calling master SAE")
    slave_SAE_ID: str = Field(description="SAE ID of the specified slave SAE")
    key_size: int = Field(description="default size of key the KME can deliver to the SAE (bit)")
    stored_key_count: int = Field(description="number of stored keys KME can deliver to the SAE")
    max_key_count: int = Field(description="maximum number of stored_key_count")
    max_key_per_request: int = Field(description="maximum number of keys per request")
    max_key_size: int = Field(description="maximum size of key the KME can deliver to the SAE (bit)")
    min_key_size: int = Field(description="minimum size of key the KME can deliver to the SAE (bit)")
    max_SAE_ID_count: int = Field(
        description="maximum number of additional_slave_SAE_IDs the KME allows; 0 without multicast"
    )
    status_extension: dict[str, Any] | None = Field(None, description="(Option) for future use")


class KeyRequest(_Spec):
    """Key request data format (clause 6.2); every field is optional."""

    number: StrictInt | None = Field(None, ge=1, description="number of keys requested, default 1")
    size: StrictInt | None = Field(None, ge=1, description="size of each key in bits, default key_size")
    additional_slave_SAE_IDs: list[StrictStr] | None = Field(
        None, description="IDs of additional slave SAEs (multicast)"
    )
    extension_mandatory: list[dict[str, Any]] | None = Field(
        None, description="extension parameters the KME must handle"
    )
    extension_optional: list[dict[str, Any]] | None = Field(None, description="extension parameters the KME may ignore")


class KeyIDItem(_Spec):
    """One entry of ``key_IDs``."""

    key_ID: StrictStr = Field(description="ID of the key: UUID format")
    key_ID_extension: dict[str, Any] | None = Field(None, description="(Option) for future use")


class KeyIDs(_Spec):
    """Key IDs data format (clause 6.4)."""

    key_IDs: list[KeyIDItem] = Field(min_length=1, description="array of IDs of keys")
    key_IDs_extension: dict[str, Any] | None = Field(None, description="(Option) for future use")


class Key(_Spec):
    """One entry of ``keys``."""

    key_ID: str = Field(description="ID of the key: UUID format")
    key_ID_extension: dict[str, Any] | None = Field(None, description="(Option) for future use")
    key: str = Field(description="key data encoded by base64")
    key_extension: dict[str, Any] | None = Field(None, description="(Option) for future use")


class KeyContainer(_Spec):
    """Key container data format (clause 6.3)."""

    keys: list[Key] = Field(description="array of keys")
    key_container_extension: dict[str, Any] | None = Field(None, description="(Option) for future use")


class ErrorBody(_Spec):
    """Error data format (clause 6.5)."""

    message: str = Field(description="error message")
    details: list[dict[str, Any]] | None = Field(None, description="(Option) array of objects with error details")
