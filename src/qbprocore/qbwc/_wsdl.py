"""Our WSDL for the Web Connector service, generated from the event classes.

It describes the same document/literal SOAP 1.1 service as Intuit's WSDLs: every operation,
its ``<op>SoapIn``/``<op>SoapOut`` messages with one ``parameters`` part, and the element of
each part with its children in order. It is written from `OPERATIONS`, so the WSDL, the codec
and the session cannot disagree. The Web Connector does not read the WSDL; people and SOAP
tools do, so it is served at ``GET …?wsdl`` with the endpoint's own address filled in.

We deliberately do not describe ``getServerVersion``: one of Intuit's sample WSDLs has it, but
the Web Connector calls ``serverVersion``, and offering both invites the wrong one.
"""

from __future__ import annotations

from lxml import etree

from qbprocore.qbwc._events import OPERATIONS
from qbprocore.qbwc._soap import INTUIT_NS

__all__ = ["wsdl"]

SERVICE_NAME = "QBWebConnectorSvc"
"""The WSDL service name Intuit uses (kept for tools that look it up by name)."""

_WSDL = "http://schemas.xmlsoap.org/wsdl/"
_XS = "http://www.w3.org/2001/XMLSchema"
_SOAP = "http://schemas.xmlsoap.org/wsdl/soap/"
_INT_PARAMS = {"qbXMLMajorVers", "qbXMLMinorVers"}


def _w(parent: etree._Element, tag: str, **attrs: str) -> etree._Element:
    return etree.SubElement(parent, f"{{{_WSDL}}}{tag}", attrs)


def _xs(parent: etree._Element, tag: str, **attrs: str) -> etree._Element:
    return etree.SubElement(parent, f"{{{_XS}}}{tag}", attrs)


def _sequence(element: etree._Element) -> etree._Element:
    return _xs(_xs(element, "complexType"), "sequence")


def wsdl(address: str) -> bytes:
    """Return the service's WSDL with ``address`` as the SOAP endpoint location.

    Args:
        address: The absolute URL the endpoint is served at
            (``"https://books.example.com/qbwc"``).
    """
    root = etree.Element(
        f"{{{_WSDL}}}definitions",
        {"targetNamespace": INTUIT_NS},
        nsmap={"wsdl": _WSDL, "s": _XS, "soap": _SOAP, "tns": INTUIT_NS},
    )
    schema = _xs(
        _w(root, "types"), "schema", elementFormDefault="qualified", targetNamespace=INTUIT_NS
    )
    array = _xs(_xs(schema, "complexType", name="ArrayOfString"), "sequence")
    _xs(array, "element", minOccurs="0", maxOccurs="unbounded", name="string", nillable="true")
    array[-1].set("type", "s:string")
    for name, cls in OPERATIONS.items():
        request = _xs(schema, "element", name=name)
        if cls.params:
            seq = _sequence(request)
            for xml_name, _attr in cls.params:
                if xml_name in _INT_PARAMS:
                    _xs(seq, "element", minOccurs="1", maxOccurs="1", name=xml_name, type="s:int")
                else:
                    _xs(seq, "element", minOccurs="0", maxOccurs="1", name=xml_name)
                    seq[-1].set("type", "s:string")
        else:
            _xs(request, "complexType")
        response = _sequence(_xs(schema, "element", name=f"{name}Response"))
        result_type = {"string": "s:string", "int": "s:int", "array": "tns:ArrayOfString"}
        _xs(
            response,
            "element",
            minOccurs="1" if cls.result == "int" else "0",
            maxOccurs="1",
            name=f"{name}Result",
            type=result_type[cls.result],
        )
    for name in OPERATIONS:
        for suffix, element in (("SoapIn", name), ("SoapOut", f"{name}Response")):
            message = _w(root, "message", name=f"{name}{suffix}")
            _w(message, "part", name="parameters", element=f"tns:{element}")
    port_type = _w(root, "portType", name=f"{SERVICE_NAME}Soap")
    for name in OPERATIONS:
        op = _w(port_type, "operation", name=name)
        _w(op, "input", message=f"tns:{name}SoapIn")
        _w(op, "output", message=f"tns:{name}SoapOut")
    binding = _w(root, "binding", name=f"{SERVICE_NAME}Soap", type=f"tns:{SERVICE_NAME}Soap")
    etree.SubElement(
        binding,
        f"{{{_SOAP}}}binding",
        transport="http://schemas.xmlsoap.org/soap/http",
        style="document",
    )
    for name in OPERATIONS:
        op = _w(binding, "operation", name=name)
        etree.SubElement(
            op, f"{{{_SOAP}}}operation", soapAction=f"{INTUIT_NS}{name}", style="document"
        )
        for direction in ("input", "output"):
            etree.SubElement(_w(op, direction), f"{{{_SOAP}}}body", use="literal")
    service = _w(root, "service", name=SERVICE_NAME)
    port = _w(service, "port", name=f"{SERVICE_NAME}Soap", binding=f"tns:{SERVICE_NAME}Soap")
    etree.SubElement(port, f"{{{_SOAP}}}address", location=address)
    return bytes(etree.tostring(root, xml_declaration=True, encoding="utf-8", pretty_print=True))
